//! The customer-facing API under `/public/v1/…`: no API key; addressed by org slug or by
//! unguessable ids. Lead form and configuration sessions (live pricing, SSE, submit).

pub mod configurator;
pub mod leads;
pub mod quotes;
pub mod sessions;

use utoipa_axum::router::OpenApiRouter;

use crate::http::AppState;

/// Every public route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(leads::router())
        .merge(sessions::router())
        .merge(quotes::router())
        .merge(configurator::router())
}
