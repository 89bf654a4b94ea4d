//! The live-pricing write-back (`PUT /api/v1/configuration-sessions/{token}/adjustments`,
//! authorised by the single-use callback token) and the integrator's view of a session.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::breakdown::{LineItemInput, price_line_items};
use crate::catalog::{Configuration, Pricing};
use crate::catalog::{PricingContext, PricingSource, SessionPricing};
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::pricing::Redeemed;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_adjustments)).routes(routes!(get_configuration_session))
}

/// A replacement breakdown for one configuration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustmentBody {
    /// Must be the `callback.configHash` the token was issued for.
    pub config_hash: String,
    /// The full breakdown: reprice, replace, add or remove items (base items are echo-able).
    pub line_items: Vec<LineItemInput>,
}

/// What the write-back did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentReceipt {
    /// The configuration priced.
    pub config_hash: String,
    /// Shown to the customer now (false: stored for when they return to this configuration).
    pub applied: bool,
    /// The breakdown as stored, totals computed by the platform.
    pub pricing: Pricing,
}

/// Write back the organisation's price for the configuration in a `pricing.calculated`
/// event. The token in the URL is single-use and bound to that event's configHash.
#[utoipa::path(put, path = "/api/v1/configuration-sessions/{token}/adjustments", tag = "live pricing",
    params(("token" = String, Path, description = "From `callback.url`")), request_body = AdjustmentBody, security(()),
    responses((status = 200, body = AdjustmentReceipt),
        (status = 404, description = "Unknown or expired token", body = crate::http::error::ErrorBody),
        (status = 409, description = "`callback_already_used` or `config_hash_mismatch`", body = crate::http::error::ErrorBody),
        (status = 422, description = "Invalid line items, with paths", body = crate::http::error::ErrorBody)))]
async fn put_adjustments(
    State(state): State<AppState>,
    Path(token): Path<String>,
    auth: Option<ApiAuth>,
    Json(body): Json<AdjustmentBody>,
) -> ApiResult<Json<AdjustmentReceipt>> {
    // Validate before redeeming, so a rejected body leaves the token usable.
    let priced =
        price_line_items(body.line_items, "", "lineItems").map_err(ApiError::Validation)?;
    // An API key is never required; if one is sent, a token of another organisation is not
    // found (and not spent), exactly like a token that does not exist.
    let org_id = auth.as_ref().map(|auth| auth.org.id.as_str());
    let token = match state.store.redeem_callback_token(&token, &body.config_hash, org_id).await? {
        Redeemed::Ok(token) => token,
        Redeemed::Unknown => return Err(ApiError::NotFound("callback")),
        Redeemed::AlreadyUsed => {
            return Err(ApiError::conflict(
                "callback_already_used",
                "this callback URL has been used",
            ));
        }
        Redeemed::HashMismatch(expected) => {
            return Err(ApiError::conflict(
                "config_hash_mismatch",
                format!("this callback answers configHash {expected}"),
            ));
        }
    };
    let session =
        state.store.session(&token.session_id).await?.ok_or(ApiError::NotFound("callback"))?;
    let org = state.store.org(&token.org_id).await?.ok_or(ApiError::NotFound("callback"))?;
    let pricing = Pricing { currency: org.currency.clone(), ..priced };
    let context = match token.context.as_str() {
        "submission" => PricingContext::Submission,
        "autofill" => PricingContext::Autofill,
        _ => PricingContext::Live,
    };
    let applied = state
        .pricer
        .apply_adjustment(
            &session,
            &body.config_hash,
            context,
            PricingSource::External,
            pricing.clone(),
        )
        .await?;
    Ok(Json(AdjustmentReceipt { config_hash: body.config_hash, applied, pricing }))
}

/// A session as the integrator sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetail {
    /// `cs_…`
    pub id: String,
    /// The template.
    pub template_id: String,
    /// Where it started.
    pub origin: String,
    /// Current configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// The price on screen, with its status and source.
    pub pricing: SessionPricing,
    /// Set once submitted.
    pub submission_id: Option<String>,
    /// Every configuration hash, oldest first.
    pub history: Vec<HistoryView>,
    /// Every stored answer, newest first.
    pub adjustments: Vec<AdjustmentView>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// One configuration of the history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    /// 1-based.
    pub seq: i64,
    /// The configuration's hash.
    pub config_hash: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// One stored answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentView {
    /// `adj_…`
    pub id: String,
    /// The configuration it prices.
    pub config_hash: String,
    /// `live`, `submission` or `autofill`.
    pub context: String,
    /// `external` or `plugin`.
    pub source: PricingSource,
    /// The breakdown.
    pub pricing: Pricing,
    /// Epoch ms.
    pub created_at: i64,
}

/// Read a session: configuration, hash, price and source, history and answers.
#[utoipa::path(get, path = "/api/v1/configuration-sessions/{id}", tag = "live pricing",
    params(("id" = String, Path)),
    responses((status = 200, body = SessionDetail), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_configuration_session(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionDetail>> {
    let session = state
        .store
        .org_session(&auth.org.id, &id)
        .await?
        .ok_or(ApiError::NotFound("configuration session"))?;
    let history = state.store.session_history(&session.id).await?;
    let adjustments = state.store.adjustments(&session.id, None).await?;
    Ok(Json(SessionDetail {
        history: history
            .into_iter()
            .map(|h| HistoryView {
                seq: h.seq,
                config_hash: h.config_hash,
                created_at: h.created_at,
            })
            .collect(),
        adjustments: adjustments
            .into_iter()
            .map(|a| AdjustmentView {
                id: a.id,
                config_hash: a.config_hash,
                context: a.context,
                source: a.source,
                pricing: a.pricing,
                created_at: a.created_at,
            })
            .collect(),
        id: session.id,
        template_id: session.template_id,
        origin: session.origin,
        configuration: session.configuration,
        config_hash: session.config_hash,
        pricing: session.pricing,
        submission_id: session.submission_id,
        created_at: session.created_at,
        updated_at: session.updated_at,
    }))
}
