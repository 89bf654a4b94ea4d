//! The delivery log: events with their deliveries and attempts, and redelivery.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::webhooks::Requeued;
use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query, optional_json};
use crate::http::pagination::{decode_cursor, next_cursor, page_limit};
use crate::outbox::{AttemptRow, DeliveryLog, DeliveryRow, DeliveryStatus, EventFilter, EventRow};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(redeliver_event))
}

/// Filters of `GET /api/v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Events with a delivery in this status.
    pub status: Option<DeliveryStatus>,
    /// One event type.
    pub event_type: Option<String>,
    /// Events with a delivery to this endpoint.
    pub endpoint_id: Option<String>,
    /// Created after (epoch ms).
    pub created_after: Option<i64>,
    /// Created before (epoch ms).
    pub created_before: Option<i64>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// One delivery of an event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// `dlv_…`
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The URL it was sent to.
    pub url: String,
    /// `pending`, `delivered`, `failed` or `expired`.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// HTTP status of the latest attempt (none if it got no answer, e.g. a timeout).
    pub last_status_code: Option<i64>,
    /// Error of the latest attempt (connection, timeout, non-2xx summary), or why none was
    /// made (endpoint deleted or disabled).
    pub last_error: Option<String>,
    /// Next attempt (epoch ms), while pending; while an attempt is in flight, when it is
    /// retried should the worker sending it never report (its lease ends).
    pub next_attempt_at: Option<i64>,
    /// Fast-path deliveries: end of the callback budget (epoch ms).
    pub expires_at: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// When a 2xx arrived (epoch ms).
    pub delivered_at: Option<i64>,
    /// Every attempt (only on `GET /api/v1/events/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_log: Option<Vec<AttemptView>>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(row: DeliveryRow) -> Self {
        Self {
            id: row.id,
            endpoint_id: row.endpoint_id,
            url: row.url,
            status: row.status,
            attempts: row.attempts,
            last_status_code: row.last_status,
            last_error: row.last_error,
            next_attempt_at: row.next_attempt_at,
            expires_at: row.expires_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            delivered_at: row.delivered_at,
            attempts_log: None,
        }
    }
}

/// One attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// 1-based.
    pub attempt: i64,
    /// Epoch ms.
    pub started_at: i64,
    /// Round trip.
    pub duration_ms: i64,
    /// HTTP status, if any.
    pub status_code: Option<i64>,
    /// Connection/timeout error.
    pub error: Option<String>,
    /// First KiB of the response body.
    pub response_body: Option<String>,
}

impl From<AttemptRow> for AttemptView {
    fn from(row: AttemptRow) -> Self {
        Self {
            attempt: row.attempt,
            started_at: row.started_at,
            duration_ms: row.duration_ms,
            status_code: row.status_code,
            error: row.error,
            response_body: row.response_snippet,
        }
    }
}

/// An event with its deliveries.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// `evt_…` — the `X-WinFactor-Delivery` / `webhook-id` of every delivery.
    pub id: String,
    /// E.g. `lead.created`.
    pub event_type: String,
    /// Epoch ms.
    pub created_at: i64,
    /// The envelope as sent (only on `GET /api/v1/events/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Value>,
    /// One per endpoint.
    pub deliveries: Vec<DeliveryView>,
}

impl EventView {
    fn new(event: EventRow, deliveries: Vec<DeliveryRow>, with_payload: bool) -> Self {
        Self {
            payload: with_payload
                .then(|| serde_json::from_str(&event.payload).unwrap_or(Value::Null)),
            id: event.id,
            event_type: event.event_type,
            created_at: event.created_at,
            deliveries: deliveries.into_iter().map(DeliveryView::from).collect(),
        }
    }
}

/// A page of the delivery log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    /// Newest first.
    pub data: Vec<EventView>,
    /// Pass as `cursor` for the next (older) page; null at the end.
    pub next_cursor: Option<String>,
}

/// The delivery log, newest first, with each event's deliveries.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    responses((status = 200, body = EventList), super::AuthErrors))]
async fn list_events(
    auth: ApiAuth,
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> ApiResult<Json<EventList>> {
    let limit = page_limit(query.limit)?;
    let filter = EventFilter {
        status: query.status,
        event_type: query.event_type,
        endpoint_id: query.endpoint_id,
        created_after: query.created_after,
        created_before: query.created_before,
        before: query.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let page = state.store.list_events(&auth.org.id, &filter).await?;
    let next_cursor = next_cursor(&page, limit, |(event, _)| (event.created_at, &event.id));
    let data = page
        .into_iter()
        .map(|(event, deliveries)| EventView::new(event, deliveries, false))
        .collect();
    Ok(Json(EventList { data, next_cursor }))
}

/// One event: its payload and every delivery with every attempt.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = EventView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_event(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView>> {
    let (event, deliveries) =
        state.store.event(&auth.org.id, &id).await?.ok_or(ApiError::NotFound("event"))?;
    let mut attempts = state.store.attempts_of_event(&event.id).await?;
    let mut view = EventView::new(event, deliveries, true);
    for delivery in &mut view.deliveries {
        let (own, rest): (Vec<_>, Vec<_>) =
            attempts.into_iter().partition(|a| a.delivery_id == delivery.id);
        attempts = rest;
        delivery.attempts_log = Some(own.into_iter().map(AttemptView::from).collect());
    }
    Ok(Json(view))
}

/// Options of a redelivery.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Redeliver {
    /// Only to this endpoint (default: every endpoint the event went to).
    pub endpoint_id: Option<String>,
}

/// Send a delivered, failed or expired event again, with the same delivery id.
#[utoipa::path(post, path = "/api/v1/events/{id}/redeliver", tag = "events", params(("id" = String, Path)),
    request_body(content = Option<Redeliver>),
    responses((status = 202, body = Requeued), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`delivery_pending`: every delivery is still pending", body = crate::http::error::ErrorBody)))]
async fn redeliver_event(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let options: Redeliver = optional_json(&body)?;
    let (_, deliveries) =
        state.store.event(&auth.org.id, &id).await?.ok_or(ApiError::NotFound("event"))?;
    if let Some(endpoint) = &options.endpoint_id
        && !deliveries.iter().any(|d| &d.endpoint_id == endpoint)
    {
        return Err(ApiError::NotFound("delivery to that endpoint"));
    }
    let requeued =
        state.store.redeliver_event(&auth.org.id, &id, options.endpoint_id.as_deref()).await?;
    if requeued == 0 {
        return Err(ApiError::conflict(
            "delivery_pending",
            "nothing to redeliver: the event has no finished delivery to an existing endpoint",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued })))
}
