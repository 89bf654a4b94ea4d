//! Scheduled work: the quote expiry check (every `quote_expiry_interval`) and
//! [`retention`] (hourly). Every job is safe to run on several replicas at once: each
//! notice is claimed with a conditional update in the transaction that emits its event, and
//! pruning is idempotent.

pub mod expiry;
pub mod retention;

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::store::Store;
pub use retention::Retention;

/// How often retention prunes.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Runs the quote expiry check every `interval` and retention hourly until `stopping`
/// flips.
pub fn start(
    store: Store,
    public_url: String,
    interval: Duration,
    retention: Retention,
    mut stopping: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut next_expiry = Instant::now();
        let mut next_pruning = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_expiry {
                match expiry::run_once(&store, &public_url).await {
                    Ok((0, 0)) => {}
                    Ok((expiring, expired)) => {
                        tracing::info!(expiring, expired, "quote expiry check")
                    }
                    Err(err) => tracing::warn!(error = %err, "quote expiry check failed"),
                }
                next_expiry = Instant::now() + interval;
            }
            if now >= next_pruning {
                match retention::run_once(&store, &retention).await {
                    Ok(pruned) if pruned == retention::Pruned::default() => {}
                    Ok(pruned) => tracing::info!(?pruned, "retention pruned"),
                    Err(err) => tracing::warn!(error = %err, "retention pruning failed"),
                }
                next_pruning = Instant::now() + RETENTION_EVERY;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next_expiry.min(next_pruning)) => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
        }
    })
}
