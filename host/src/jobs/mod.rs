//! Scheduled work. Every job is safe to run on several replicas at once: each notice is
//! claimed with a conditional update in the transaction that emits its event.

pub mod expiry;

use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

/// Runs the quote expiry check every `interval` until `stopping` flips.
pub fn start(
    store: Store,
    public_url: String,
    interval: Duration,
    mut stopping: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match expiry::run_once(&store, &public_url).await {
                Ok((0, 0)) => {}
                Ok((expiring, expired)) => tracing::info!(expiring, expired, "quote expiry check"),
                Err(err) => tracing::warn!(error = %err, "quote expiry check failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
        }
    })
}
