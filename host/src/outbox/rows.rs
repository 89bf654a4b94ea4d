//! The outbox's rows as the delivery log shows them: events (the exact body sent), their
//! deliveries, and every attempt.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::store::parse_stored;

/// Where a delivery stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx was received.
    Delivered,
    /// The retry schedule ran out (or the endpoint went away).
    Failed,
    /// A fast-path delivery whose callback budget ran out.
    Expired,
}

impl DeliveryStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// `evt_…`: also `X-WinFactor-Delivery` and `webhook-id` of every delivery.
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// E.g. `lead.created`.
    pub event_type: String,
    /// The envelope exactly as sent.
    pub payload: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// `dlv_…`
    pub id: String,
    /// The event.
    pub event_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Target URL at creation.
    pub url: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Fast path (`pricing.calculated`)?
    pub fast: bool,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (pending only); while an attempt is in flight under a
    /// lease per row, when it is retried should its worker never report (see `claim`).
    pub next_attempt_at: Option<i64>,
    /// Fast path: when the callback budget ends.
    pub expires_at: Option<i64>,
    /// HTTP status of the latest attempt, if it got an answer.
    pub last_status: Option<i64>,
    /// Error of the latest attempt (connection, timeout, non-2xx summary).
    pub last_error: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// When a 2xx arrived.
    pub delivered_at: Option<i64>,
}

/// One recorded attempt.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    /// The delivery it belongs to.
    pub delivery_id: String,
    /// 1-based attempt number.
    pub attempt: i64,
    /// Epoch ms.
    pub started_at: i64,
    /// Round trip in ms.
    pub duration_ms: i64,
    /// HTTP status, if a response arrived.
    pub status_code: Option<i64>,
    /// Connection/timeout/refusal error.
    pub error: Option<String>,
    /// The first bytes of the response body.
    pub response_snippet: Option<String>,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events with a delivery in this status.
    pub status: Option<DeliveryStatus>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only events with a delivery to this endpoint.
    pub endpoint_id: Option<String>,
    /// Created strictly after (epoch ms).
    pub created_after: Option<i64>,
    /// Created strictly before (epoch ms).
    pub created_before: Option<i64>,
    /// Keyset cursor: strictly older than this (created_at, id).
    pub before: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

pub(super) const DELIVERY_COLUMNS: &str = "id, event_id, endpoint_id, url, status, fast, attempts, \
    next_attempt_at, expires_at, last_status, last_error, created_at, updated_at, delivered_at";

pub(super) fn delivery_from_row(row: &AnyRow) -> anyhow::Result<DeliveryRow> {
    let status: String = row.try_get("status")?;
    Ok(DeliveryRow {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        url: row.try_get("url")?,
        status: parse_stored(&status, DeliveryStatus::parse, "delivery status")?,
        fast: row.try_get::<i64, _>("fast")? != 0,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        expires_at: row.try_get("expires_at")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

pub(super) fn event_from_row(row: &AnyRow) -> anyhow::Result<EventRow> {
    Ok(EventRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
    })
}
