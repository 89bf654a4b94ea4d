//! SQLite's WAL checkpoints, off the write path.
//!
//! By default the connection whose commit pushes the WAL past 1 000 pages copies it back
//! into the database file and flushes it, inside that commit: every ~150 live price changes,
//! one customer waited several milliseconds for it (the live rail's p99). A running server
//! instead checkpoints every [`CHECKPOINT_EVERY`] on a reader connection, beside the writer
//! (a `PASSIVE` checkpoint takes no lock a writer needs). The writer keeps a far larger
//! threshold as a backstop: under a write load that never pauses, the WAL can only start over
//! after a checkpoint the writer runs itself.
//!
//! Why once a second and not more often: the same build measured plugin-rail p99 2.2–3.1 ms
//! checkpointing every 50 ms and lower in 8 of 12 paired runs once a second. Skipping the
//! checkpoint's own flushes made it worse (p99 4–9 ms), which points at WAL *restarts* rather
//! than I/O contention: after a checkpoint that caught up completely, the next commit starts
//! the WAL over and `fsync`s its header inside that commit, even an unflushed one — and a
//! faster checkpoint catches up more often. Under the benchmark's back-to-back changes
//! (~1 300 a second) a background checkpoint rarely catches up while commits keep coming,
//! so the WAL grows until one does or until the writer's backstop: while the plugin run log
//! was pruned with every batch, the WAL reached the backstop within the benchmark and one
//! change in ~1 000 ran that checkpoint inline (max 30–135 ms); pruned every few seconds, it
//! no longer does there (max 1.4–7.5 ms). A commit-count trigger (checkpoint every 500
//! commits) did not help and was not kept.

use std::time::Duration;

use tokio::sync::watch;

use super::Store;
use crate::urls::Backend;

/// How often the background checkpoint runs.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
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
