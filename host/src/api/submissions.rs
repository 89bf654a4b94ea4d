//! Submissions: intake for CRMs (with the human-readable `resolvedConfiguration`),
//! reconciliation by `createdAfter`, and the `externalRef` write-back.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::PricingSource;
use crate::catalog::resolved::ResolvedConfiguration;
use crate::catalog::{Configuration, TemplateRef};
use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::{decode_cursor, next_cursor, page_limit};
use crate::services::submissions::{Customer, FrozenPricing};
use crate::store::Submission;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_submissions))
        .routes(routes!(get_submission, update_submission))
}

/// A submission as integrators see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionView {
    /// `sub_…`
    pub id: String,
    /// `{name, email, phone, companyName}`.
    #[schema(value_type = Customer)]
    pub customer: Value,
    /// The contact it was filed under.
    pub contact_id: String,
    /// Overall size in millimetres.
    pub dimensions: Dimensions,
    /// The template configured.
    pub template: TemplateRef,
    /// The canonical configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// Units of this configuration.
    pub unit_amount: i64,
    /// The configuration in words.
    pub resolved_configuration: ResolvedConfiguration,
    /// The frozen price.
    pub pricing: FrozenPricing,
    /// The organisation's frozen breakdown, if the live loop (or a plugin) priced it.
    pub external_pricing: Option<FrozenPricing>,
    /// The newest quote made from it.
    pub latest_quote_id: Option<String>,
    /// The integrator's reference (`system:type:id`).
    pub external_ref: Option<String>,
    /// The configuration session it came from.
    pub session_id: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// Overall `{width, height}` of a configuration.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dimensions {
    /// Millimetres.
    pub width: u32,
    /// Millimetres.
    pub height: u32,
}

async fn view(state: &AppState, submission: Submission) -> ApiResult<SubmissionView> {
    let template = state
        .store
        .template_version(&submission.org_id, &submission.template_id, submission.template_version)
        .await?;
    let template =
        template.ok_or_else(|| anyhow::anyhow!("template of {} vanished", submission.id))?;
    let pricing = FrozenPricing::of(&submission);
    Ok(SubmissionView {
        resolved_configuration: template
            .resolve(&submission.configuration, submission.notes.as_deref()),
        external_pricing: (submission.pricing_source != PricingSource::Base)
            .then(|| pricing.clone()),
        pricing,
        dimensions: Dimensions {
            width: submission.configuration.width,
            height: submission.configuration.height,
        },
        template: TemplateRef::from(&template),
        id: submission.id,
        customer: submission.customer,
        contact_id: submission.contact_id,
        configuration: submission.configuration,
        config_hash: submission.config_hash,
        unit_amount: submission.unit_amount,
        latest_quote_id: submission.latest_quote_id,
        external_ref: submission.external_ref,
        session_id: submission.session_id,
        created_at: submission.created_at,
        updated_at: submission.updated_at,
    })
}

/// Filters of `GET /api/v1/submissions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmissionQuery {
    /// Only those created after this instant (epoch ms): the reconciliation safety net.
    pub created_after: Option<i64>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of submissions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionList {
    /// Oldest first.
    pub data: Vec<SubmissionView>,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// Page through submissions oldest first (stable while new ones arrive).
#[utoipa::path(get, path = "/api/v1/submissions", tag = "submissions", params(SubmissionQuery),
    responses((status = 200, body = SubmissionList), super::AuthErrors))]
async fn list_submissions(
    auth: ApiAuth,
    State(state): State<AppState>,
    Query(query): Query<SubmissionQuery>,
) -> ApiResult<Json<SubmissionList>> {
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let page =
        state.store.list_submissions(&auth.org.id, query.created_after, after, limit).await?;
    let next_cursor = next_cursor(&page, limit, |s| (s.created_at, &s.id));
    let mut data = Vec::with_capacity(page.len());
    for submission in page {
        data.push(view(&state, submission).await?);
    }
    Ok(Json(SubmissionList { data, next_cursor }))
}

/// Read a submission with its `resolvedConfiguration` and frozen pricing.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "submissions", params(("id" = String, Path)),
    responses((status = 200, body = SubmissionView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_submission(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SubmissionView>> {
    let submission =
        state.store.submission(&auth.org.id, &id).await?.ok_or(ApiError::NotFound("submission"))?;
    Ok(Json(view(&state, submission).await?))
}

/// The link back to the integrator's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSubmission {
    /// `system:type:id`, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, required = true, min_length = 1, max_length = 200)]
    pub external_ref: Option<Option<String>>,
}

/// Stamp (or clear) the integrator's reference on a submission.
#[utoipa::path(patch, path = "/api/v1/submissions/{id}", tag = "submissions", params(("id" = String, Path)),
    request_body = UpdateSubmission,
    responses((status = 200, body = SubmissionView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn update_submission(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UpdateSubmission>,
) -> ApiResult<Json<SubmissionView>> {
    let Some(external_ref) = body.external_ref else {
        return Err(ApiError::invalid_field(
            "externalRef",
            "required (a string, or null to clear)",
        ));
    };
    if external_ref.as_ref().is_some_and(|r| r.is_empty() || r.chars().count() > 200) {
        return Err(ApiError::invalid_field("externalRef", "1 to 200 characters"));
    }
    let updated =
        state.store.set_submission_external_ref(&auth.org.id, &id, external_ref.as_deref()).await?;
    Ok(Json(view(&state, updated.ok_or(ApiError::NotFound("submission"))?).await?))
}
