//! SQLite's WAL checkpoints, off the write path.
//!
//! By default the connection whose commit pushes the WAL past 1 000 pages copies it back
//! into the database file and flushes it, inside that commit: every ~150 live price changes,
//! one customer waited several milliseconds for it (the live rail's p99). A running server
//! instead checkpoints every [`CHECKPOINT_EVERY`] on a reader connection, beside the writer
//! (a `PASSIVE` checkpoint takes no lock a writer needs). The writer keeps a far larger
//! threshold as a backstop: under a write load that never pauses, the WAL can only start over
//! after a checkpoint the writer runs itself — by then there is little left to copy.
//!
//! Why once a second and not more often: after a complete checkpoint the next commit starts
//! the WAL over, and SQLite then `fsync`s the new WAL header inside that commit — even an
//! unflushed one. Checkpointing every 50 ms put that flush into a live price change twenty
//! times a second (plugin rail p99 2.2–3.1 ms; once a second mostly 1.7–2.4 ms, same hour,
//! same build otherwise). Skipping the checkpoint's own flushes made it worse (p99 4–9 ms):
//! the WAL then starts over even more often. A second of live changes is ~10 WAL pages per
//! change: a hundred customers changing once a second write ~1 000 pages; the benchmark's
//! single client changing back to back (~1 300 changes/s) reaches the writer's backstop
//! in under a second, so there one change in ~1 000 pays for an inline checkpoint.

use std::time::Duration;

use tokio::sync::watch;

use super::Store;
use crate::config::Backend;

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
