//! The transactional outbox and delivery log: events (the exact body to send), one delivery
//! per (event, endpoint), and every attempt.
//!
//! How workers take due deliveries is in [`super::claims`]; results are recorded here, in
//! batches.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::text::storable;
use super::{Commit, Store, Tx, id_list};
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
    /// When the next attempt is due (pending only); while an attempt is in flight under a
    /// lease per row, when it is retried should its worker never report (see `claims`).
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

/// A delivery a worker now owns until its lease ends.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// `dlv_…`
    pub id: String,
    /// The event id (the delivery id on the wire).
    pub event_id: String,
    /// Event type header.
    pub event_type: String,
    /// Body to POST (reference-counted: retries and the event's other deliveries read
    /// with it share one copy).
    pub payload: Bytes,
    /// Attempts before this one.
    pub attempts: i64,
    /// Position in the retry schedule.
    pub retry_step: i64,
    /// Fast path?
    pub fast: bool,
    /// Fast path: the end of the callback budget.
    pub expires_at: Option<i64>,
    /// When the lease ends (epoch ms) and the delivery falls due again for any claim.
    pub leased_until: i64,
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
        let payload = Bytes::from(event.payload.clone());
        for endpoint in endpoints {
            let id = new_sortable_id("dlv");
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, org_id, endpoint_id, url, status, fast, \
                 attempts, retry_step, next_attempt_at, expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, 0, 0, $7, $8, $9, $9)",
            )
            .bind(&id)
            .bind(&event.id)
            .bind(&event.org_id)
            .bind(&endpoint.id)
            .bind(&endpoint.url)
            .bind(i64::from(fast))
            // Handed to this process's fast lane: due only if it never reports.
            .bind(event.created_at + lease.unwrap_or(0))
            .bind(expires_at)
            .bind(event.created_at)
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
                    leased_until: event.created_at + lease.unwrap_or(0),
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
    /// Records a batch of attempts in one transaction, with the endpoints' failure
    /// bookkeeping: a success ends a failure run; a failure run longer than
    /// `disable_after_ms` disables the endpoint; 410 Gone disables it at once.
    ///
    /// Each delivery keeps its latest attempt on its own row; the attempt it replaces moves
    /// to `delivery_attempts` first (migration 0010), so a first attempt is one row update.
    /// The batch travels as JSON arrays, so every statement has one fixed text (prepared
    /// once) and the same six parameters whatever the batch size: five statements per
    /// batch, none per delivery. (A multi-row `VALUES` list was tried instead: sqlx looks
    /// each SQLite parameter up by name, quadratic in their number, and the varying text
    /// was prepared again for every batch; it doubled the writer's time.) A delivery
    /// appearing twice is recorded in a second transaction, so both attempts are logged.
    pub async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        disable_after_ms: i64,
    ) -> anyhow::Result<()> {
        let mut seen = std::collections::HashSet::new();
        let (first, again): (Vec<&AttemptRecord>, Vec<&AttemptRecord>) =
            records.iter().partition(|record| seen.insert(record.delivery_id.as_str()));
        for batch in [first, again] {
            if !batch.is_empty() {
                self.record_distinct_attempts(batch, disable_after_ms).await?;
            }
        }
        Ok(())
    }

    async fn record_distinct_attempts(
        &self,
        records: Vec<&AttemptRecord>,
        disable_after_ms: i64,
    ) -> anyhow::Result<()> {
        let now = now_ms();
        let succeeded = id_list(
            records.iter().filter(|r| r.outcome == Outcome::Delivered).map(|r| &*r.endpoint_id),
        );
        let failures: Vec<FailureRow> = records
            .iter()
            .filter(|r| r.attempt > 0 && r.outcome != Outcome::Delivered)
            .map(|r| FailureRow {
                id: &r.endpoint_id,
                started_at: r.started_at,
                reason: if r.endpoint_gone { "gone" } else { "failing" },
            })
            .collect();
        let failures = serde_json::to_string(&failures)?;
        let results =
            serde_json::to_string(&records.iter().map(|r| ResultRow::of(r)).collect::<Vec<_>>())?;
        // Deliveries whose latest attempt this batch replaces (a first attempt replaces none).
        let replacing = id_list(records.iter().filter(|r| r.attempt != 1).map(|r| &*r.delivery_id));
        // $1 now, $2 endpoints that succeeded, $3 failures, $4 disable cutoff, $5 results,
        // $6 deliveries whose latest attempt is replaced.
        let (succeeded_ids, failures_from, results_from, replacing_ids) =
            (self.json_ids(2), self.json_elements(3), self.json_elements(5), self.json_ids(6));
        // A new attempt (or a no-request result) replaces the latest one: keep that first.
        let archive_latest = format!(
            "INSERT INTO delivery_attempts (id, delivery_id, attempt, started_at, duration_ms, \
             status_code, error, response_snippet) \
             SELECT id || '.' || CAST(attempts AS TEXT), id, attempts, last_started_at, \
             last_duration_ms, last_status, last_error, last_snippet FROM deliveries \
             WHERE last_started_at IS NOT NULL \
             AND id IN ({replacing_ids})"
        );
        // Materialized twice: SQLite's `json_each` renders an element as JSON text each time
        // its `value` is referenced, so each element is rendered once (into `batch`) and
        // each field read out of it once (into `results`), not once per reference in the
        // UPDATE. Elements are arrays (see `ResultRow`): a field is found by position, with
        // no key to compare.
        let update_deliveries = format!(
            "WITH batch AS MATERIALIZED (SELECT value AS element FROM {results_from}), \
             results AS MATERIALIZED (SELECT element ->> 0 AS delivery_id, \
               element ->> 1 AS status, CAST(element ->> 2 AS BIGINT) AS attempt, \
               CAST(element ->> 3 AS BIGINT) AS started_at, \
               CAST(element ->> 4 AS BIGINT) AS duration_ms, \
               CAST(element ->> 5 AS BIGINT) AS status_code, \
               element ->> 6 AS error, element ->> 7 AS snippet, \
               CAST(element ->> 8 AS BIGINT) AS next_attempt_at, \
               CAST(element ->> 9 AS BIGINT) AS retry_step FROM batch) \
             UPDATE deliveries SET status = r.status, \
             attempts = CASE WHEN r.attempt > 0 THEN r.attempt ELSE deliveries.attempts END, \
             next_attempt_at = r.next_attempt_at, \
             retry_step = COALESCE(r.retry_step, deliveries.retry_step), \
             last_started_at = CASE WHEN r.attempt > 0 THEN r.started_at END, \
             last_duration_ms = r.duration_ms, last_status = r.status_code, \
             last_error = r.error, last_snippet = r.snippet, updated_at = $1, \
             delivered_at = CASE WHEN r.status = 'delivered' THEN $1 \
               ELSE deliveries.delivered_at END \
             FROM results r WHERE deliveries.id = r.delivery_id"
        );
        let end_failure_runs = format!(
            "UPDATE webhook_endpoints SET failing_since = NULL \
             WHERE failing_since IS NOT NULL AND id IN ({succeeded_ids})"
        );
        let start_failure_runs = format!(
            "UPDATE webhook_endpoints SET failing_since = (SELECT MIN(CAST(value ->> 'started_at' AS BIGINT)) \
               FROM {failures_from} WHERE value ->> 'id' = webhook_endpoints.id) \
             WHERE failing_since IS NULL AND id IN (SELECT value ->> 'id' FROM {failures_from})"
        );
        // 'gone' sorts after 'failing': a 410 in the batch names the reason.
        let disable = format!(
            "UPDATE webhook_endpoints SET enabled = 0, updated_at = $1, \
             disabled_reason = (SELECT MAX(value ->> 'reason') FROM {failures_from} \
               WHERE value ->> 'id' = webhook_endpoints.id) \
             WHERE enabled = 1 AND id IN (SELECT value ->> 'id' FROM {failures_from}) \
             AND (failing_since <= $4 OR id IN \
               (SELECT value ->> 'id' FROM {failures_from} WHERE value ->> 'reason' = 'gone')) \
             RETURNING id"
        );
        let disabled = self
            .atomic(
                Commit::Flushed,
                &[
                    &archive_latest,
                    &update_deliveries,
                    &end_failure_runs,
                    &start_failure_runs,
                    &disable,
                ],
                move |query| {
                    query
                        .bind(now)
                        .bind(succeeded.clone())
                        .bind(failures.clone())
                        .bind(now - disable_after_ms)
                        .bind(results.clone())
                        .bind(replacing.clone())
                },
            )
            .await?;
        if !disabled.is_empty() {
            self.cache.clear(); // who subscribes has changed
        }
        Ok(())
    }
}

/// An attempt's result as one element of the JSON array [`Store::record_attempts`] binds:
/// itself a JSON array, its fields in the order of the declaration (the statement reads
/// them by position).
struct ResultRow<'a> {
    delivery_id: &'a str,
    status: &'static str,
    attempt: i64,
    started_at: i64,
    duration_ms: i64,
    status_code: Option<i64>,
    error: Option<Cow<'a, str>>,
    snippet: Option<Cow<'a, str>>,
    next_attempt_at: Option<i64>,
    retry_step: Option<i64>,
}

impl serde::Serialize for ResultRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (
            self.delivery_id,
            self.status,
            self.attempt,
            self.started_at,
            self.duration_ms,
            self.status_code,
            &self.error,
            &self.snippet,
            self.next_attempt_at,
            self.retry_step,
        )
            .serialize(serializer)
    }
}

impl<'a> ResultRow<'a> {
    fn of(record: &'a AttemptRecord) -> Self {
        let (status, next_attempt_at, retry_step) = match record.outcome {
            Outcome::Delivered => (DeliveryStatus::Delivered, None, None),
            Outcome::Retry { at, step } => (DeliveryStatus::Pending, Some(at), Some(step)),
            Outcome::Expired => (DeliveryStatus::Expired, None, None),
            Outcome::Failed => (DeliveryStatus::Failed, None, None),
        };
        Self {
            delivery_id: &record.delivery_id,
            attempt: record.attempt,
            started_at: record.started_at,
            duration_ms: record.duration_ms,
            status_code: record.status_code,
            // A receiver's answer (and an error describing it) is the receiver's text: kept
            // storable, so one receiver's bytes cannot fail the batch recording everyone's.
            error: record.error.as_deref().map(storable),
            snippet: record.response_snippet.as_deref().map(storable),
            status: status.as_str(),
            next_attempt_at,
            retry_step,
        }
    }
}

/// A failed attempt's endpoint, for the failure bookkeeping of [`Store::record_attempts`].
#[derive(serde::Serialize)]
struct FailureRow<'a> {
    id: &'a str,
    started_at: i64,
    /// `gone` (410) or `failing`.
    reason: &'static str,
}
