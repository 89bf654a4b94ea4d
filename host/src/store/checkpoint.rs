//! SQLite's WAL checkpoints, off the write path.
//!
//! By default the connection whose commit pushes the WAL past 1 000 pages copies it back
//! into the database file and flushes it, inside that commit: every ~150 live price changes,
//! one customer waited several milliseconds for it (the live rail's p99). A running server
//! instead checkpoints every [`CHECKPOINT_EVERY`] on a reader connection, beside the writer
//! (a `PASSIVE` checkpoint takes no lock a writer needs). The writer keeps a far larger
//! threshold as a backstop: under a write load that never pauses, the WAL can only start over
//! after a checkpoint the writer runs itself — by then there is little left to copy.

use std::time::Duration;

use tokio::sync::watch;

use super::Store;
use crate::config::Backend;

/// How often the background checkpoint runs.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);
/// WAL size (pages) at which the writer checkpoints itself.
pub(super) const WRITER_BACKSTOP_PAGES: u32 = 10_000;

impl Store {
    /// SQLite: checkpoints the WAL every [`CHECKPOINT_EVERY`] until `stopping` flips. Postgres
    /// has nothing to do (`None`).
    pub fn start_checkpoints(
        &self,
        mut stopping: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let reader = self.reader.clone();
        Some(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
                if let Err(err) =
                    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&reader).await
                {
                    tracing::warn!(error = %err, "WAL checkpoint failed");
                }
            }
        }))
    }
}
