//! The customer-facing API under `/public/v1/…`: no API key; addressed by org slug or by
//! unguessable ids, and rate-limited where it accepts input.

pub mod leads;
pub mod rate_limit;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Every public route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(leads::router())
}
