//! Recording what became of each attempt: the recorder writes results in batches (group
//! commit), so the database sees a few transactions per batch, not several per delivery;
//! each delivery keeps its latest attempt on its row, and the endpoints' failure
//! bookkeeping (a failure run too long, or 410 Gone, disables one) rides along.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::claim::Claimer;
use super::rows::DeliveryStatus;
use crate::clock::now_ms;
use crate::store::text::storable;
use crate::store::{Commit, Store, id_list};

/// Most results written in one transaction.
const RECORD_BATCH: usize = 512;
/// How long the recorder waits for more results before writing a batch.
const RECORD_LINGER: Duration = Duration::from_millis(5);

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

/// Writes attempt results in batches: the first result starts a short linger, and whatever
/// arrived by its end (up to [`RECORD_BATCH`]) goes into one transaction. The recorder does
/// not listen while it lingers or writes, so a finishing delivery never wakes it. Each of
/// the lanes' `claimers` learns what has been recorded, and once every lane has stopped and
/// its last results are in, gives its claim up.
pub(super) async fn record_results(
    store: Store,
    mut results: mpsc::UnboundedReceiver<AttemptRecord>,
    disable_after: Duration,
    claimers: [Arc<Claimer>; 2],
) {
    let disable_after_ms = i64::try_from(disable_after.as_millis()).unwrap_or(i64::MAX);
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while results.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        tokio::time::sleep(RECORD_LINGER).await;
        let room = RECORD_BATCH.saturating_sub(batch.len());
        if room > 0 && !results.is_empty() {
            results.recv_many(&mut batch, room).await;
        }
        while let Err(err) = record_attempts(&store, &batch, disable_after_ms).await {
            tracing::warn!(error = %err, "recording delivery results failed; retrying");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for claimer in &claimers {
            claimer.recorded(batch.iter().map(|r| r.delivery_id.as_str()));
        }
        batch.clear();
    }
    // Every lane has stopped and its last results are in: a successor may take over.
    for claimer in &claimers {
        claimer.release().await;
    }
}

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
async fn record_attempts(
    store: &Store,
    records: &[AttemptRecord],
    disable_after_ms: i64,
) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    let (first, again): (Vec<&AttemptRecord>, Vec<&AttemptRecord>) =
        records.iter().partition(|record| seen.insert(record.delivery_id.as_str()));
    for batch in [first, again] {
        if !batch.is_empty() {
            record_distinct_attempts(store, batch, disable_after_ms).await?;
        }
    }
    Ok(())
}

async fn record_distinct_attempts(
    store: &Store,
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
        (store.json_ids(2), store.json_elements(3), store.json_elements(5), store.json_ids(6));
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
    let disabled = store
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
        store.clear_cache().await; // who subscribes has changed
    }
    Ok(())
}

/// An attempt's result as one element of the JSON array [`record_attempts`] binds:
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

/// A failed attempt's endpoint, for the failure bookkeeping of [`record_attempts`].
#[derive(serde::Serialize)]
struct FailureRow<'a> {
    id: &'a str,
    started_at: i64,
    /// `gone` (410) or `failing`.
    reason: &'static str,
}
