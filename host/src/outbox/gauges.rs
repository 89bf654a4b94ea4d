//! The due queue as operators watch it: how many deliveries of each lane are due and not
//! claimed, and how long the oldest has waited (the first thing to alert on).

use sqlx::Row;

use crate::clock::now_ms;
use crate::store::Store;

/// Sets the due-queue gauges ([`crate::telemetry::webhook_due`]) of both lanes: how many
/// deliveries are due now and not claimed, and how long the oldest has waited. Read at
/// scrape time (the partial index over pending deliveries serves it).
pub async fn observe_due(store: &Store) -> anyhow::Result<()> {
    let now = now_ms();
    for fast in [false, true] {
        let row = sqlx::query(
            "SELECT COUNT(*) AS due, MIN(next_attempt_at) AS oldest FROM deliveries \
             WHERE status = 'pending' AND fast = $1 AND next_attempt_at <= $2",
        )
        .bind(i64::from(fast))
        .bind(now)
        .fetch_one(store.reader())
        .await?;
        let due: i64 = row.try_get("due")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        let age = oldest.map_or(0, |oldest| now.saturating_sub(oldest).max(0));
        crate::telemetry::webhook_due(
            fast,
            u64::try_from(due).unwrap_or(0),
            std::time::Duration::from_millis(u64::try_from(age).unwrap_or(0)),
        );
    }
    Ok(())
}
