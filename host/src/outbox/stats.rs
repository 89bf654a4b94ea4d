//! An endpoint's recent record, from the delivery log: its deliveries created in the last
//! [`STATS_WINDOW_MS`] (24 h), how many of them succeeded or failed, and how fast the
//! receiver answered their attempts (p50/p99 over at most [`MAX_LATENCY_SAMPLES`] of the
//! most recent attempts). Portable SQL on both backends; the percentiles are taken here.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::store::Store;

/// The window the statistics cover: deliveries created in the last 24 hours.
pub const STATS_WINDOW_MS: i64 = 24 * 3_600_000;
/// Most attempt durations read for the percentiles (the most recent ones).
pub const MAX_LATENCY_SAMPLES: i64 = 10_000;

/// An endpoint's deliveries created in the last 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStats {
    /// Deliveries to the endpoint created in the window (one per event; retries and
    /// redeliveries of it are the same delivery), whatever their status.
    pub deliveries: i64,
    /// Of those, delivered (a 2xx arrived).
    pub succeeded: i64,
    /// Of those, given up: `failed` (retries exhausted, 410, endpoint deleted or disabled)
    /// or `expired` (a `pricing.calculated` past its callback budget). The rest are pending.
    pub failed: i64,
    /// `succeeded / (succeeded + failed)`, from 0 to 1; `null` while none has finished.
    pub success_rate: Option<f64>,
    /// Median round trip (ms) of the attempts made for those deliveries (every request
    /// made, answered or not; a timeout counts its full wait); `null` without attempts.
    pub latency_p50_ms: Option<i64>,
    /// 99th percentile (nearest rank) of the same round trips.
    pub latency_p99_ms: Option<i64>,
}

/// The statistics of `endpoint_id` (of `org_id`) over the deliveries created at or after
/// `since` (epoch ms; the API passes now − [`STATS_WINDOW_MS`]).
pub async fn endpoint_stats(
    store: &Store,
    org_id: &str,
    endpoint_id: &str,
    since: i64,
) -> anyhow::Result<EndpointStats> {
    let counts = sqlx::query(
        "SELECT COUNT(*) AS deliveries, \
         COALESCE(SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END), 0) AS succeeded, \
         COALESCE(SUM(CASE WHEN status IN ('failed', 'expired') THEN 1 ELSE 0 END), 0) AS failed \
         FROM deliveries WHERE endpoint_id = $1 AND org_id = $2 AND created_at >= $3",
    )
    .bind(endpoint_id)
    .bind(org_id)
    .bind(since)
    .fetch_one(store.reader())
    .await?;
    // Earlier attempts live in `delivery_attempts`, each delivery's latest on its own row.
    let mut durations: Vec<i64> = sqlx::query(
        "SELECT duration_ms FROM (\
           SELECT a.duration_ms AS duration_ms, a.started_at AS started_at \
           FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
           WHERE d.endpoint_id = $1 AND d.org_id = $2 AND d.created_at >= $3 \
           UNION ALL \
           SELECT last_duration_ms, last_started_at FROM deliveries \
           WHERE endpoint_id = $1 AND org_id = $2 AND created_at >= $3 \
           AND last_started_at IS NOT NULL\
         ) attempts ORDER BY started_at DESC LIMIT $4",
    )
    .bind(endpoint_id)
    .bind(org_id)
    .bind(since)
    .bind(MAX_LATENCY_SAMPLES)
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|row| row.try_get::<i64, _>("duration_ms"))
    .collect::<Result<_, _>>()?;
    durations.sort_unstable();
    let (succeeded, failed): (i64, i64) = (counts.try_get("succeeded")?, counts.try_get("failed")?);
    let finished = succeeded + failed;
    Ok(EndpointStats {
        deliveries: counts.try_get("deliveries")?,
        succeeded,
        failed,
        success_rate: (finished > 0).then(|| succeeded as f64 / finished as f64),
        latency_p50_ms: percentile(&durations, 50),
        latency_p99_ms: percentile(&durations, 99),
    })
}

/// The `p`th percentile of `sorted` by nearest rank: the smallest value at least `p`% of
/// the values are at or below.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[7], 99), Some(7));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50), Some(50));
        assert_eq!(percentile(&hundred, 99), Some(99));
        assert_eq!(percentile(&[10, 20, 30, 40], 50), Some(20));
        assert_eq!(percentile(&[10, 20, 30, 40], 99), Some(40));
    }
}
