//! The customer-facing API under `/public/v1/…`: no API key; addressed by org slug or by
//! unguessable ids. Lead form and configuration sessions (live pricing, SSE, submit).

pub mod configurator;
pub mod leads;
pub mod quotes;
pub mod sessions;

use utoipa_axum::router::OpenApiRouter;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::orgs::Org;

/// Every public route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(leads::router())
        .merge(sessions::router())
        .merge(quotes::router())
        .merge(configurator::router())
}

/// The organisation of a public page or route: 404 when there is none or an operator has
/// disabled it.
pub async fn active_org(state: &AppState, slug: &str) -> ApiResult<Org> {
    let org = state.store.org_by_slug(slug).await?;
    org.filter(Org::is_active).ok_or(ApiError::NotFound("organisation"))
}

/// 404 (as `what`) unless the organisation `org_id` exists and is enabled.
pub async fn require_active(state: &AppState, org_id: &str, what: &'static str) -> ApiResult<()> {
    let org = state.store.org(org_id).await?;
    org.filter(Org::is_active).map(drop).ok_or(ApiError::NotFound(what))
}
