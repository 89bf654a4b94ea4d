//! Retention: the delivery log is pruned past `delivery.retention`, hourly.

use std::time::Duration;

use tokio::sync::watch;

use crate::clock::now_ms;
use crate::store::Store;

/// Prunes the delivery log past its retention, hourly, until `shutdown` flips.
pub(super) async fn prune_log(
    store: Store,
    retention: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        match prune_delivery_log(&store, now_ms().saturating_sub(retention_ms)).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned the delivery log"),
            Err(err) => tracing::warn!(error = %err, "pruning the delivery log failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Deletes attempts, and events whose deliveries are all finished, older than `cutoff`.
/// A delivery's latest attempt lives on its row and goes with its event.
async fn prune_delivery_log(store: &Store, cutoff: i64) -> anyhow::Result<u64> {
    let attempts = sqlx::query("DELETE FROM delivery_attempts WHERE started_at < $1")
        .bind(cutoff)
        .execute(store.writer())
        .await?;
    let events = sqlx::query(
        "DELETE FROM events WHERE created_at < $1 AND NOT EXISTS \
         (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status = 'pending')",
    )
    .bind(cutoff)
    .execute(store.writer())
    .await?;
    Ok(attempts.rows_affected() + events.rows_affected())
}
