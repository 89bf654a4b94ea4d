//! Quotes: create from a submission (with the integrator's breakdown, or calculated —
//! preferring the submission's frozen external price), read, list, edit, revise after
//! sending (versions). Sending, PDFs and auto-fill are in [`super::quote_delivery`].

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::LineItem;
use crate::catalog::breakdown::{LineItemInput, price_line_items};
use crate::catalog::money;
use crate::clock::{now_ms, parse_instant};
use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::{decode_cursor, next_cursor, page_limit};
use crate::orgs::currency_symbol;
use crate::services::quotes::{self, NewQuote};
use crate::store::{Quote, Submission};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_quote))
        .routes(routes!(list_quotes))
        .routes(routes!(get_quote, update_quote))
        .routes(routes!(get_quote_version))
        .routes(routes!(replace_line_items))
        .merge(super::quote_delivery::router())
}

/// A quote as integrators see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    /// `quo_…`
    pub id: String,
    /// `Q-2026-0042`
    pub number: String,
    /// `draft`, `sent`, `accepted`, `rejected` or `expired`.
    pub status: String,
    /// Current version.
    pub version: i64,
    /// Every version number (older ones at `/versions/{n}`).
    pub versions: Vec<i64>,
    /// ISO 4217.
    pub currency: String,
    /// E.g. `€`.
    pub currency_symbol: &'static str,
    /// Σ line totals.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub subtotal: rust_decimal::Decimal,
    /// What the customer pays (taxes are not modelled: equals the subtotal).
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub total: rust_decimal::Decimal,
    /// The current version's breakdown.
    pub line_items: Vec<LineItem>,
    /// Epoch ms.
    pub valid_until: i64,
    /// Free text.
    pub reference: Option<String>,
    /// The integrator's reference.
    pub external_ref: Option<String>,
    /// The submission's customer block.
    #[schema(value_type = Option<crate::services::submissions::Customer>)]
    pub customer: Value,
    /// The submission quoted.
    pub submission_id: String,
    /// The PDF of the current version.
    pub pdf: PdfLink,
    /// When it was last sent (epoch ms).
    pub sent_at: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// Whether a quote's current version has its PDF, and where.
#[derive(Debug, Serialize, ToSchema)]
pub struct PdfLink {
    /// `ready` once the current version was prepared or sent, else `pending`.
    pub status: PdfStatus,
    /// The download URL when ready.
    pub url: Option<String>,
}

/// See [`PdfLink`].
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PdfStatus {
    /// Rendered for the current version.
    Ready,
    /// Not rendered for the current version yet.
    Pending,
}

pub(crate) async fn view(state: &AppState, quote: Quote) -> ApiResult<QuoteView> {
    let submission = state.store.submission(&quote.org_id, &quote.submission_id).await?;
    let customer = submission.map(|s| s.customer).unwrap_or(Value::Null);
    Ok(QuoteView {
        versions: state.store.quote_versions(&quote.id).await?,
        currency_symbol: currency_symbol(&quote.currency),
        subtotal: quote.pricing.subtotal,
        total: quote.pricing.subtotal,
        line_items: quote.pricing.line_items,
        customer,
        pdf: if quote.pdf_version == Some(quote.version) {
            let url = format!("{}/api/v1/quotes/{}/pdf", state.public_url, quote.id);
            PdfLink { status: PdfStatus::Ready, url: Some(url) }
        } else {
            PdfLink { status: PdfStatus::Pending, url: None }
        },
        id: quote.id,
        number: quote.number,
        status: quote.status,
        version: quote.version,
        currency: quote.currency,
        valid_until: quote.valid_until,
        reference: quote.reference,
        external_ref: quote.external_ref,
        submission_id: quote.submission_id,
        sent_at: quote.sent_at,
        created_at: quote.created_at,
        updated_at: quote.updated_at,
    })
}

/// A new draft quote.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateQuote {
    /// Exactly these items; omitted: calculated (the submission's frozen price).
    pub line_items: Option<Vec<LineItemInput>>,
    /// Free text, e.g. `ERP order 5512`.
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    /// Epoch ms or ISO-8601, in the future (default: 30 days).
    #[schema(value_type = Option<crate::clock::InstantInput>)]
    pub valid_until: Option<Value>,
}

fn valid_until(value: Option<&Value>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            parse_instant(v).filter(|at| *at > now_ms()).ok_or_else(|| {
                ApiError::invalid_field("validUntil", "a future instant (epoch ms or ISO-8601)")
            })
        })
        .transpose()
}

fn check_reference(reference: Option<&str>) -> Result<(), ApiError> {
    match reference {
        Some(text) if text.chars().count() > 200 => {
            Err(ApiError::invalid_field("reference", "at most 200 characters"))
        }
        _ => Ok(()),
    }
}

/// Create a draft quote for a submission; emits `quote.created`.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/quotes", tag = "quotes", params(("id" = String, Path)),
    request_body = CreateQuote,
    responses((status = 201, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn create_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(submission_id): Path<String>,
    Json(body): Json<CreateQuote>,
) -> ApiResult<(StatusCode, Json<QuoteView>)> {
    let submission: Submission = state
        .store
        .submission(&auth.org.id, &submission_id)
        .await?
        .ok_or(ApiError::NotFound("submission"))?;
    check_reference(body.reference.as_deref())?;
    let valid_until = valid_until(body.valid_until.as_ref())?;
    let pricing = body
        .line_items
        .map(|items| price_line_items(items, &auth.org.currency, "lineItems"))
        .transpose()
        .map_err(ApiError::Validation)?;
    let new = NewQuote { pricing, reference: body.reference, valid_until };
    let quote =
        quotes::create(&state.store, &state.public_url, &auth.org, &submission, new).await?;
    Ok((StatusCode::CREATED, Json(view(&state, quote).await?)))
}

/// Filters of `GET /api/v1/quotes`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Only quotes of this submission.
    pub submission_id: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of quotes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteList {
    /// Oldest first.
    pub data: Vec<QuoteView>,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// List quotes, oldest first.
#[utoipa::path(get, path = "/api/v1/quotes", tag = "quotes", params(QuoteQuery),
    responses((status = 200, body = QuoteList), super::AuthErrors))]
async fn list_quotes(
    auth: ApiAuth,
    State(state): State<AppState>,
    Query(query): Query<QuoteQuery>,
) -> ApiResult<Json<QuoteList>> {
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = state
        .store
        .list_quotes(
            &auth.org.id,
            query.status.as_deref(),
            query.submission_id.as_deref(),
            after,
            limit,
        )
        .await?;
    let next_cursor = next_cursor(&page, limit, |q| (q.created_at, &q.id));
    let mut data = Vec::with_capacity(page.len());
    for quote in page {
        data.push(view(&state, quote).await?);
    }
    Ok(Json(QuoteList { data, next_cursor }))
}

pub(crate) async fn find(state: &AppState, org_id: &str, id: &str) -> ApiResult<Quote> {
    state.store.quote(org_id, id).await?.ok_or(ApiError::NotFound("quote"))
}

/// Read a quote at its current version.
#[utoipa::path(get, path = "/api/v1/quotes/{id}", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_quote(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<QuoteView>> {
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}

/// One earlier (or the current) version's breakdown.
#[utoipa::path(get, path = "/api/v1/quotes/{id}/versions/{version}", tag = "quotes",
    params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = crate::catalog::Pricing), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_quote_version(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, i64)>,
) -> ApiResult<Json<crate::catalog::Pricing>> {
    let pricing = state.store.quote_version(&auth.org.id, &id, version).await?;
    Ok(Json(pricing.ok_or(ApiError::NotFound("quote version"))?))
}

/// Changes to a quote's details.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateQuote {
    /// Free text; null clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub reference: Option<Option<String>>,
    /// Epoch ms or ISO-8601, in the future.
    #[schema(value_type = Option<crate::clock::InstantInput>)]
    pub valid_until: Option<Value>,
    /// `system:type:id`; null clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub external_ref: Option<Option<String>>,
}

/// Update reference, validity or external reference.
#[utoipa::path(patch, path = "/api/v1/quotes/{id}", tag = "quotes", params(("id" = String, Path)),
    request_body = UpdateQuote,
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn update_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UpdateQuote>,
) -> ApiResult<Json<QuoteView>> {
    check_reference(body.reference.as_ref().and_then(Option::as_deref))?;
    if body
        .external_ref
        .as_ref()
        .and_then(Option::as_ref)
        .is_some_and(|r| r.is_empty() || r.chars().count() > 200)
    {
        return Err(ApiError::invalid_field("externalRef", "1 to 200 characters"));
    }
    let valid_until = valid_until(body.valid_until.as_ref())?;
    let quote = state
        .store
        .update_quote_fields(&auth.org.id, &id, body.reference, valid_until, body.external_ref)
        .await?
        .ok_or(ApiError::NotFound("quote"))?;
    Ok(Json(view(&state, quote).await?))
}

/// A full replacement of the line items.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplaceLineItems {
    /// Required to change a sent quote: creates the next version.
    #[serde(default)]
    pub revise: bool,
    /// The new breakdown.
    pub line_items: Vec<LineItemInput>,
}

/// Replace the line items: in place on a draft; on a sent quote only with `revise: true`,
/// which creates the next version (earlier versions stay readable).
#[utoipa::path(put, path = "/api/v1/quotes/{id}/line-items", tag = "quotes", params(("id" = String, Path)),
    request_body = ReplaceLineItems,
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`quote_sent` (needs revise) or `quote_closed`", body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn replace_line_items(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ReplaceLineItems>,
) -> ApiResult<Json<QuoteView>> {
    let quote = find(&state, &auth.org.id, &id).await?;
    let pricing = price_line_items(body.line_items, &quote.currency, "lineItems")
        .map_err(ApiError::Validation)?;
    quotes::replace_line_items(&state.store, &quote, &pricing, body.revise).await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}
