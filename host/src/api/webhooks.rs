//! Webhook endpoints: create (returns the signing secret once), list, read (with its
//! statistics over the last 24 hours), update, delete, rotate the secret with a grace
//! period, send a signed test event (`webhook.test` or an example of any event type),
//! recover failures.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::{now_ms, parse_instant};
use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, nullable, optional_json};
use crate::outbox::{
    DeliveryLog, Endpoint, EndpointChanges, EndpointStats, EventType, NewEndpoint, STATS_WINDOW_MS,
    WebhookEndpoints, endpoint_stats, filters, signing, ssrf,
};
use crate::services::webhooks::send_test;
use crate::validation::FieldError;

/// Default grace period of a secret rotation.
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(test_webhook))
        .routes(routes!(recover_webhook))
}

/// An endpoint as the API shows it (the secret only on create and rotate).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// `whe_…`
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed event types (`*` = all).
    pub events: Vec<String>,
    /// Content filters.
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
    /// Receives deliveries?
    pub enabled: bool,
    /// Why the platform disabled it: `gone` (410) or `failing` (continuous failures).
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts (epoch ms).
    pub failing_since: Option<i64>,
    /// Until when the previous secret still signs (epoch ms), after a rotation.
    pub previous_secret_expires_at: Option<i64>,
    /// The signing secret (`whsec_…`): only in create and rotate answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

impl WebhookView {
    fn new(endpoint: Endpoint, reveal_secret: bool) -> Self {
        let now = now_ms();
        Self {
            previous_secret_expires_at: endpoint.previous_secret_expires_at.filter(|at| *at > now),
            secret: reveal_secret.then_some(endpoint.secret),
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            events: endpoint.events,
            filters: endpoint.filters,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            failing_since: endpoint.failing_since,
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// One endpoint with its statistics over the last 24 hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDetail {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// Its deliveries created in the last 24 hours: counts, success rate, latency.
    pub stats: EndpointStats,
}

/// The org's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first.
    pub data: Vec<WebhookView>,
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// `https://…` (http and private targets only when the server allows them).
    #[schema(max_length = 2048)]
    pub url: String,
    /// Event types to receive, or `["*"]`.
    pub events: Vec<String>,
    /// Content filters, e.g. `{"data.template.slug": {"in": ["2-panel-lift-slide"]}}`.
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
    /// Free text.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Changes to an endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhook {
    /// New URL.
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// New subscriptions.
    pub events: Option<Vec<String>>,
    /// New filters; `null` removes them.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Option<Value>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    /// Enable (also clears an automatic disable) or disable.
    pub enabled: Option<bool>,
}

async fn check_url(state: &AppState, url: &str, errors: &mut Vec<FieldError>) {
    if url.len() > 2048 {
        errors.push(FieldError::new("url", "at most 2048 characters"));
    } else if let Err(err) = ssrf::check_target(url, state.allow_private_webhook_targets).await {
        errors.push(FieldError::new("url", err.to_string()));
    }
}

fn check_events(events: &[String], errors: &mut Vec<FieldError>) {
    if events.is_empty() {
        errors.push(FieldError::new("events", "subscribe to at least one event type (or \"*\")"));
    }
    for (index, event) in events.iter().enumerate() {
        if event != "*" && EventType::parse(event).is_none() {
            errors.push(FieldError::new(
                format!("events[{index}]"),
                format!("unknown event type `{event}`"),
            ));
        }
    }
}

fn check_description(description: Option<&str>, errors: &mut Vec<FieldError>) {
    if description.is_some_and(|d| d.chars().count() > 500) {
        errors.push(FieldError::new("description", "at most 500 characters"));
    }
}

fn check_filters(filters: Option<&Value>, errors: &mut Vec<FieldError>) {
    if let Some(filters) = filters
        && let Err(found) = filters::validate(filters, "filters")
    {
        errors.extend(found);
    }
}

fn finish(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// List the organisation's webhook endpoints.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), super::AuthErrors))]
async fn list_webhooks(
    auth: ApiAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<WebhookList>> {
    let endpoints = state.store.list_endpoints(&auth.org.id).await?;
    Ok(Json(WebhookList {
        data: endpoints.into_iter().map(|e| WebhookView::new(e, false)).collect(),
    }))
}

/// Register an endpoint; the answer carries its signing secret, shown only here.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookView), super::AuthErrors,
        (status = 409, description = "`endpoint_limit`: the plan's endpoint count is reached", body = crate::http::error::ErrorBody),
        (status = 422, description = "Invalid URL (scheme, private target), events or filters", body = crate::http::error::ErrorBody)))]
async fn create_webhook(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Json(body): Json<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let mut errors = Vec::new();
    check_url(&state, &body.url, &mut errors).await;
    check_events(&body.events, &mut errors);
    check_filters(body.filters.as_ref(), &mut errors);
    check_description(body.description.as_deref(), &mut errors);
    finish(errors)?;
    let limit = auth.org.features().max_webhook_endpoints;
    if state.store.list_endpoints(&auth.org.id).await?.len() >= limit as usize {
        return Err(ApiError::conflict(
            "endpoint_limit",
            format!("the {} plan allows {limit} endpoints", auth.org.plan.as_str()),
        ));
    }
    let new = NewEndpoint {
        url: body.url,
        description: body.description,
        events: body.events,
        filters: body.filters,
        enabled: body.enabled.unwrap_or(true),
        secret: signing::generate_secret(),
    };
    let endpoint = state.store.insert_endpoint(&auth.org.id, &new).await?;
    Ok((StatusCode::CREATED, Json(WebhookView::new(endpoint, true))))
}

async fn find(state: &AppState, org_id: &str, id: &str) -> ApiResult<Endpoint> {
    state.store.endpoint(org_id, id).await?.ok_or(ApiError::NotFound("webhook"))
}

/// Read one endpoint with its statistics: its deliveries created in the last 24 hours,
/// how many succeeded and failed, and the receiver's latency (p50/p99 of their attempts).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)), responses((status = 200, body = WebhookDetail), super::AuthErrors,
        (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_webhook(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookDetail>> {
    let endpoint = find(&state, &auth.org.id, &id).await?;
    let since = now_ms() - STATS_WINDOW_MS;
    let stats = endpoint_stats(&state.store, &auth.org.id, &endpoint.id, since).await?;
    Ok(Json(WebhookDetail { webhook: WebhookView::new(endpoint, false), stats }))
}

/// Change an endpoint; enabling it again clears an automatic disable.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = UpdateWebhook,
    responses((status = 200, body = WebhookView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn update_webhook(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UpdateWebhook>,
) -> ApiResult<Json<WebhookView>> {
    find(&state, &auth.org.id, &id).await?;
    let mut errors = Vec::new();
    if let Some(url) = &body.url {
        check_url(&state, url, &mut errors).await;
    }
    if let Some(events) = &body.events {
        check_events(events, &mut errors);
    }
    check_filters(body.filters.as_ref().and_then(Option::as_ref), &mut errors);
    check_description(body.description.as_ref().and_then(Option::as_deref), &mut errors);
    finish(errors)?;
    let changes = EndpointChanges {
        url: body.url,
        description: body.description,
        events: body.events,
        filters: body.filters,
        enabled: body.enabled,
    };
    let endpoint = state.store.update_endpoint(&auth.org.id, &id, &changes).await?;
    Ok(Json(WebhookView::new(endpoint.ok_or(ApiError::NotFound("webhook"))?, false)))
}

/// Delete an endpoint; its pending deliveries are marked failed.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn delete_webhook(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_endpoint(&auth.org.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("webhook"))
    }
}

/// Options of a secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the old secret keeps signing (default 86400, at most 7 days).
    pub grace_period_seconds: Option<u64>,
}

/// Replace the signing secret; deliveries carry both signatures during the grace period.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    request_body(content = Option<RotateSecret>),
    responses((status = 200, body = WebhookView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn rotate_webhook_secret(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<WebhookView>> {
    let options: RotateSecret = optional_json(&body)?;
    let grace = options.grace_period_seconds.map_or(DEFAULT_ROTATION_GRACE, Duration::from_secs);
    if grace > Duration::from_secs(7 * 86_400) {
        return Err(ApiError::invalid_field("gracePeriodSeconds", "at most 604800 (7 days)"));
    }
    let until = now_ms() + i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let secret = signing::generate_secret();
    let endpoint = state.store.rotate_endpoint_secret(&auth.org.id, &id, &secret, until).await?;
    Ok(Json(WebhookView::new(endpoint.ok_or(ApiError::NotFound("webhook"))?, true)))
}

/// What the receiver answered to a test event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// A 2xx arrived.
    pub delivered: bool,
    /// The test event's id (its `X-WinFactor-Delivery`).
    pub event_id: String,
    /// HTTP status, if any.
    pub status_code: Option<u16>,
    /// Round trip in ms.
    pub duration_ms: u64,
    /// The first KiB of the receiver's answer.
    pub response_body: Option<String>,
    /// Connection/timeout/refusal error.
    pub error: Option<String>,
}

/// What to send as a test event.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestEvent {
    /// One of the ten event types: a realistic example of it, signed like a real delivery.
    /// Absent: a `webhook.test` event.
    #[schema(example = "quote.sent")]
    pub event_type: Option<String>,
}

/// Send a signed test event to the endpoint now (not stored, never retried) and report the
/// answer: a realistic example of `eventType`, or `webhook.test` without a body.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    request_body(content = Option<TestEvent>),
    responses((status = 200, body = TestResult),
        (status = 400, description = "Malformed JSON", body = crate::http::error::ErrorBody),
        super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 413, description = "Body over the limit", body = crate::http::error::ErrorBody),
        (status = 422, description = "Unknown `eventType` (the details name the valid ones) or an unknown field", body = crate::http::error::ErrorBody),
        (status = 429, description = "Rate limit of the API key exceeded (`Retry-After`)", body = crate::http::error::ErrorBody)))]
async fn test_webhook(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<TestResult>> {
    let test: TestEvent = optional_json(&body)?;
    let event_type = test.event_type.as_deref().map(test_event_type).transpose()?;
    let endpoint = find(&state, &auth.org.id, &id).await?;
    let (event_id, response) =
        send_test(&state.sender, &auth.org, &endpoint, event_type, &state.public_url).await?;
    Ok(Json(TestResult {
        delivered: response.is_success(),
        event_id,
        status_code: response.status,
        duration_ms: u64::try_from(response.duration.as_millis()).unwrap_or(u64::MAX),
        response_body: response.snippet,
        error: response.error,
    }))
}

/// The event type a test names; 422 listing the valid ones otherwise.
fn test_event_type(name: &str) -> ApiResult<EventType> {
    EventType::parse(name).ok_or_else(|| {
        let valid: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        ApiError::invalid_field(
            "eventType",
            format!("unknown event type `{name}`; one of: {}", valid.join(", ")),
        )
    })
}

/// Which failures to re-queue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Recover {
    /// Epoch milliseconds or an ISO-8601 instant.
    #[schema(value_type = crate::clock::InstantInput)]
    pub since: Value,
}

/// How many deliveries were re-queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    /// Count.
    pub requeued: u64,
}

/// Re-queue this endpoint's failed deliveries created since a time (after an outage).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/recover", tag = "webhooks", params(("id" = String, Path)),
    request_body = Recover,
    responses((status = 202, body = Requeued), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn recover_webhook(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Recover>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    find(&state, &auth.org.id, &id).await?;
    let since = parse_instant(&body.since).ok_or_else(|| {
        ApiError::invalid_field("since", "epoch milliseconds or an ISO-8601 instant")
    })?;
    let requeued = state.store.recover_endpoint(&auth.org.id, &id, since).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued })))
}
