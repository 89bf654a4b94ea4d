//! REST API v1 (`/api/v1/…`, API keys): one file per resource, each with a `router()`,
//! merged here into the document the public routers join (see `server`).

pub mod configuration_sessions;
pub mod contacts;
pub mod events;
pub mod leads;
pub mod organization;
pub mod organization_logo;
pub mod pricing_plugins;
pub mod quote_delivery;
pub mod quotes;
pub mod submissions;
pub mod templates;
pub mod webhooks;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::http::AppState;
use crate::http::error::ErrorBody;

/// The document's fixed parts; paths and schemas come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(title = "WinFactor Deep API & Events", version = "1.0.0",
        description = "REST API v1, public configurator API and live pricing write-back."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// Errors every authenticated route can answer.
#[derive(utoipa::IntoResponses)]
pub enum AuthErrors {
    /// No, unknown or revoked key.
    #[response(status = 401, description = "Missing, unknown or revoked API key")]
    Unauthorized(ErrorBody),
    /// Plan or scope insufficient.
    #[response(
        status = 403,
        description = "`plan_required` (no apiAccess), `insufficient_scope` or `organization_disabled`"
    )]
    Forbidden(ErrorBody),
}

/// Every REST v1 route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(organization::router())
        .merge(organization_logo::router())
        .merge(templates::router())
        .merge(webhooks::router())
        .merge(events::router())
        .merge(leads::router())
        .merge(configuration_sessions::router())
        .merge(submissions::router())
        .merge(contacts::router())
        .merge(quotes::router())
        .merge(pricing_plugins::router())
}
