//! The transactional outbox and delivery log: events (the exact body to send), one delivery
//! per (event, endpoint), and every attempt.
//!
//! Workers claim due deliveries with a lease (`locked_until`), so a crashed process's work
//! is picked up again once the lease runs out; results are recorded in batches.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::webhooks::endpoint_from_row;
use super::{IDS_PER_STATEMENT, ROWS_PER_INSERT, Store, Tx, placeholders};
use crate::clock::now_ms;
use crate::ids::new_sortable_id;
use crate::store::Endpoint;

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
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<i64>,
    /// Fast path: when the callback budget ends.
    pub expires_at: Option<i64>,
    /// Last HTTP status received.
    pub last_status: Option<i64>,
    /// Last error (connection, timeout, non-2xx summary).
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

/// A delivery a worker now owns until its lease ends.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// `dlv_…`
    pub id: String,
    /// The event id (the delivery id on the wire).
    pub event_id: String,
    /// Event type header.
    pub event_type: String,
    /// Body to POST (shared by every delivery of the event).
    pub payload: Arc<str>,
    /// Attempts before this one.
    pub attempts: i64,
    /// Position in the retry schedule.
    pub retry_step: i64,
    /// Fast path?
    pub fast: bool,
    /// Fast path: the end of the callback budget.
    pub expires_at: Option<i64>,
    /// The endpoint, or `None` if it was deleted.
    pub endpoint: Option<Arc<Endpoint>>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// Try again at `at` (epoch ms) as schedule step `step`.
    Retry {
        /// Epoch ms.
        at: i64,
        /// Next retry step.
        step: i64,
    },
    /// Give up.
    Failed,
    /// Fast path out of budget.
    Expired,
}

/// The result of one attempt, to record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// Delivery attempted.
    pub delivery_id: String,
    /// Its endpoint (for failure bookkeeping).
    pub endpoint_id: String,
    /// 1-based attempt number; 0 when no request was made (endpoint gone or disabled).
    pub attempt: i64,
    /// Epoch ms.
    pub started_at: i64,
    /// Round trip.
    pub duration_ms: i64,
    /// HTTP status, if any.
    pub status_code: Option<i64>,
    /// Error text, if any.
    pub error: Option<String>,
    /// Start of the response body.
    pub response_snippet: Option<String>,
    /// What happens next.
    pub outcome: Outcome,
    /// The receiver answered 410 Gone: disable the endpoint.
    pub endpoint_gone: bool,
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
        status: super::parse_stored(&status, DeliveryStatus::parse, "delivery status")?,
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

impl Tx {
    /// Writes an event and one delivery (due now) per endpoint in this transaction. Fast-path
    /// deliveries are leased right here and handed to this process's fast lane on commit.
    pub async fn insert_event(
        &mut self,
        event: &EventRow,
        endpoints: &[Endpoint],
        fast: bool,
        expires_at: Option<i64>,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO events (id, org_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&event.id)
        .bind(&event.org_id)
        .bind(&event.event_type)
        .bind(&event.payload)
        .bind(event.created_at)
        .execute(self.conn())
        .await?;
        let lease = if fast { self.outbox.fast_lease() } else { None };
        let payload: Arc<str> = Arc::from(event.payload.as_str());
        for endpoint in endpoints {
            let id = new_sortable_id("dlv");
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, org_id, endpoint_id, url, status, fast, \
                 attempts, retry_step, next_attempt_at, expires_at, locked_until, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, 0, 0, $7, $8, $9, $7, $7)",
            )
            .bind(&id)
            .bind(&event.id)
            .bind(&event.org_id)
            .bind(&endpoint.id)
            .bind(&endpoint.url)
            .bind(i64::from(fast))
            .bind(event.created_at)
            .bind(expires_at)
            .bind(lease.map(|ms| event.created_at + ms))
            .execute(self.conn())
            .await?;
            if fast {
                self.fast.push(ClaimedDelivery {
                    id,
                    event_id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    payload: payload.clone(),
                    attempts: 0,
                    retry_step: 0,
                    fast: true,
                    expires_at,
                    endpoint: Some(Arc::new(endpoint.clone())),
                });
            } else {
                self.wrote_queued = true;
            }
        }
        if lease.is_none() {
            // Nobody to hand them to: leave them unleased for a polling worker.
            self.fast.clear();
            if fast && !endpoints.is_empty() {
                self.outbox.fast.notify_one();
            }
        }
        Ok(())
    }
}

impl Store {
    /// Claims up to `limit` due deliveries of one lane (fast or queued) for `lease_ms`,
    /// oldest first, skipping the `saturated` endpoints. The outer `locked_until` check makes
    /// concurrent claimers on Postgres skip rows another worker took meanwhile.
    pub async fn claim_due_deliveries(
        &self,
        fast: bool,
        limit: i64,
        saturated: &[String],
        lease_ms: i64,
    ) -> anyhow::Result<Vec<ClaimedDelivery>> {
        let now = now_ms();
        let skip = if saturated.is_empty() {
            String::new()
        } else {
            format!(" AND endpoint_id NOT IN ({})", placeholders(5, saturated.len()))
        };
        let sql = format!(
            "UPDATE deliveries SET locked_until = $1 WHERE id IN (\
               SELECT id FROM deliveries WHERE status = 'pending' AND fast = $2 \
               AND next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until <= $3){skip} \
               ORDER BY next_attempt_at LIMIT $4\
             ) AND (locked_until IS NULL OR locked_until <= $3) RETURNING id"
        );
        let mut query =
            sqlx::query(&sql).bind(now + lease_ms).bind(i64::from(fast)).bind(now).bind(limit);
        for endpoint in saturated {
            query = query.bind(endpoint);
        }
        let claimed: Vec<String> = query
            .fetch_all(&self.writer)
            .await?
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.retry_step, d.fast, d.expires_at, \
                    e.event_type, e.payload \
             FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id IN ({})",
            placeholders(1, claimed.len())
        );
        let mut query = sqlx::query(&sql);
        for id in &claimed {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.reader).await?;
        // Each endpoint is read once per claim, however many of its deliveries came along.
        let mut endpoint_ids: Vec<String> =
            rows.iter().map(|row| row.try_get("endpoint_id")).collect::<Result<_, _>>()?;
        endpoint_ids.sort_unstable();
        endpoint_ids.dedup();
        let sql = format!(
            "SELECT * FROM webhook_endpoints WHERE id IN ({})",
            placeholders(1, endpoint_ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in &endpoint_ids {
            query = query.bind(id);
        }
        let endpoints: HashMap<String, Arc<Endpoint>> = query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| endpoint_from_row(row).map(|e| (e.id.clone(), Arc::new(e))))
            .collect::<anyhow::Result<_>>()?;
        rows.iter()
            .map(|row| {
                let endpoint_id: String = row.try_get("endpoint_id")?;
                Ok(ClaimedDelivery {
                    id: row.try_get("id")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    payload: Arc::from(row.try_get::<String, _>("payload")?),
                    attempts: row.try_get("attempts")?,
                    retry_step: row.try_get("retry_step")?,
                    fast: row.try_get::<i64, _>("fast")? != 0,
                    expires_at: row.try_get("expires_at")?,
                    endpoint: endpoints.get(&endpoint_id).cloned(),
                })
            })
            .collect()
    }

    /// Records a batch of attempts in one transaction, with the endpoints' failure
    /// bookkeeping: a success ends a failure run; a failure run longer than
    /// `disable_after_ms` disables the endpoint; 410 Gone disables it at once. Successes —
    /// the bulk — are written with a few set-based statements for the whole batch.
    pub async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        disable_after_ms: i64,
    ) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        let attempted: Vec<&AttemptRecord> = records.iter().filter(|r| r.attempt > 0).collect();
        for chunk in attempted.chunks(ROWS_PER_INSERT) {
            let rows = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 8 + 1, 8)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO delivery_attempts (id, delivery_id, attempt, started_at, duration_ms, \
                 status_code, error, response_snippet) VALUES {rows}"
            );
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(new_sortable_id("att"))
                    .bind(&record.delivery_id)
                    .bind(record.attempt)
                    .bind(record.started_at)
                    .bind(record.duration_ms)
                    .bind(record.status_code)
                    .bind(&record.error)
                    .bind(&record.response_snippet);
            }
            query.execute(tx.conn()).await?;
        }
        let (delivered, others): (Vec<&AttemptRecord>, Vec<&AttemptRecord>) =
            records.iter().partition(|r| r.outcome == Outcome::Delivered);
        let mut by_status: HashMap<Option<i64>, Vec<&str>> = HashMap::new();
        for record in &delivered {
            by_status.entry(record.status_code).or_default().push(&record.delivery_id);
        }
        for (status, ids) in by_status {
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                let sql = format!(
                    "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, \
                     next_attempt_at = NULL, locked_until = NULL, last_status = $1, last_error = NULL, \
                     updated_at = $2, delivered_at = $2 WHERE id IN ({})",
                    placeholders(3, chunk.len())
                );
                let mut query = sqlx::query(&sql).bind(status).bind(now);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.execute(tx.conn()).await?;
            }
        }
        for record in &others {
            let (status, next_attempt_at, step) = match record.outcome {
                Outcome::Retry { at, step } => (DeliveryStatus::Pending, Some(at), Some(step)),
                Outcome::Expired => (DeliveryStatus::Expired, None, None),
                Outcome::Failed | Outcome::Delivered => (DeliveryStatus::Failed, None, None),
            };
            sqlx::query(
                "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
                 retry_step = COALESCE($4, retry_step), locked_until = NULL, \
                 last_status = COALESCE($5, last_status), last_error = $6, updated_at = $7 WHERE id = $8",
            )
            .bind(status.as_str())
            .bind(record.attempt.max(0))
            .bind(next_attempt_at)
            .bind(step)
            .bind(record.status_code)
            .bind(&record.error)
            .bind(now)
            .bind(&record.delivery_id)
            .execute(tx.conn())
            .await?;
        }
        let mut succeeded: Vec<&str> = delivered.iter().map(|r| r.endpoint_id.as_str()).collect();
        succeeded.sort_unstable();
        succeeded.dedup();
        for chunk in succeeded.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE webhook_endpoints SET failing_since = NULL \
                 WHERE failing_since IS NOT NULL AND id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(tx.conn()).await?;
        }
        let mut disabled_any = false;
        for record in others.iter().filter(|r| r.attempt > 0) {
            sqlx::query("UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2")
                .bind(record.started_at)
                .bind(&record.endpoint_id)
                .execute(tx.conn())
                .await?;
            let disabled = sqlx::query(
                "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2 \
                 WHERE id = $3 AND enabled = 1 AND ($4 = 1 OR failing_since <= $5)",
            )
            .bind(if record.endpoint_gone { "gone" } else { "failing" })
            .bind(now)
            .bind(&record.endpoint_id)
            .bind(i64::from(record.endpoint_gone))
            .bind(now - disable_after_ms)
            .execute(tx.conn())
            .await?;
            disabled_any |= disabled.rows_affected() > 0;
        }
        tx.commit().await?;
        if disabled_any {
            self.cache.clear(); // who subscribes has changed
        }
        Ok(())
    }
}
