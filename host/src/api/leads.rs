//! Leads from the public contact form: list, read, move through the pipeline.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::{decode_cursor, next_cursor, page_limit};
use crate::store::{Lead, LeadStatus};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_leads)).routes(routes!(get_lead, update_lead))
}

/// Filters of `GET /api/v1/leads`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// Only leads in this status.
    pub status: Option<LeadStatus>,
    /// Created after (epoch ms), for reconciliation.
    pub created_after: Option<i64>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of leads.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadList {
    /// Newest first.
    pub data: Vec<Lead>,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// List leads, newest first (e.g. `?status=new` for the CRM's inbox).
#[utoipa::path(get, path = "/api/v1/leads", tag = "leads", params(LeadQuery),
    responses((status = 200, body = LeadList), super::AuthErrors))]
async fn list_leads(
    auth: ApiAuth,
    State(state): State<AppState>,
    Query(query): Query<LeadQuery>,
) -> ApiResult<Json<LeadList>> {
    let limit = page_limit(query.limit)?;
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let data = state
        .store
        .list_leads(&auth.org.id, query.status, query.created_after, before, limit)
        .await?;
    let next_cursor = next_cursor(&data, limit, |lead| (lead.created_at, &lead.id));
    Ok(Json(LeadList { data, next_cursor }))
}

/// Read one lead.
#[utoipa::path(get, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = String, Path)),
    responses((status = 200, body = Lead), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_lead(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Lead>> {
    Ok(Json(state.store.lead(&auth.org.id, &id).await?.ok_or(ApiError::NotFound("lead"))?))
}

/// A pipeline move.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLead {
    /// `new`, `contacted`, `qualified` or `closed`.
    pub status: LeadStatus,
}

/// Move a lead through the pipeline.
#[utoipa::path(patch, path = "/api/v1/leads/{id}", tag = "leads", params(("id" = String, Path)),
    request_body = UpdateLead,
    responses((status = 200, body = Lead), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn update_lead(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UpdateLead>,
) -> ApiResult<Json<Lead>> {
    let lead = state.store.set_lead_status(&auth.org.id, &id, body.status).await?;
    Ok(Json(lead.ok_or(ApiError::NotFound("lead"))?))
}
