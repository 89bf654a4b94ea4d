//! The queued lane under one lease for the whole lane (SQLite, see [`super::claim`]):
//! the lease this process holds, where its next read starts, and which deliveries it has
//! read but whose results have not committed yet — those are still pending in the
//! database, so every read returns them again until then, and the lane must not send them
//! twice.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use super::attach::{DueDelivery, attach_events};
use super::claim::ClaimedDelivery;
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::{Store, id_list};
use crate::urls::Backend;

/// The lane this lease is for in `outbox_leases` (the queued lane; the fast lane leases
/// rows).
const QUEUED_LANE: &str = "queued";

/// This process's hold on the queued lane.
pub(super) struct LaneLease {
    /// Who holds the lease in the database: one id per process run.
    holder: String,
    lease_ms: i64,
    /// When the lease this process holds ends (epoch ms; 0: it holds none).
    until: AtomicI64,
    reads: Mutex<Reads>,
}

/// Before every position in due order.
const START: (i64, i64) = (i64::MIN, i64::MIN);

#[derive(Default)]
struct Reads {
    /// Where the next read starts; `None`: at the oldest due delivery.
    cursor: Option<(i64, i64)>,
    /// Where reads began passing over the deliveries of full endpoints (those deliveries
    /// are behind the cursor, still due).
    skipped_from: Option<(i64, i64)>,
    /// Rewinds so far: a read that saw one happen meanwhile must not move the cursor on.
    rewinds: u64,
    /// Result batches committed so far.
    recorded: u64,
    /// Deliveries read and not yet recorded (`None`), or recorded by batch `n`
    /// (`Some(n)`): a read that began before that commit may still see them pending.
    unrecorded: HashMap<String, Option<u64>>,
}

impl LaneLease {
    /// A lease of `lease_ms`, not taken yet.
    pub(super) fn new(lease_ms: i64) -> Self {
        Self {
            holder: new_id("wkr"),
            lease_ms,
            until: AtomicI64::new(0),
            reads: Mutex::new(Reads::default()),
        }
    }

    /// When the lease this process holds ends (0: none): a delivery is only sent while
    /// enough of it remains.
    pub(super) fn until(&self) -> i64 {
        self.until.load(Ordering::Acquire)
    }

    /// Takes or renews the lease when less than half of it remains; `false` while another
    /// process holds it.
    pub(super) async fn hold(&self, store: &Store) -> bool {
        let now = now_ms();
        if self.until() - now > self.lease_ms / 2 {
            return true;
        }
        match store.take_lane_lease(&self.holder, now + self.lease_ms).await {
            Ok(true) => {
                self.until.store(now + self.lease_ms, Ordering::Release);
                true
            }
            Ok(false) => false,
            Err(err) => {
                tracing::warn!(error = %err, "renewing the queued lane's lease failed");
                self.until() > now
            }
        }
    }

    /// Up to `limit` due deliveries this process has not in flight yet, and whether more
    /// may be due right behind them. `sweep` reads from the oldest due delivery again, for
    /// any committed behind the cursor (a transaction that began before the last read and
    /// committed after it).
    pub(super) async fn claim(
        &self,
        store: &Store,
        limit: i64,
        passed_over: &[String],
        sweep: bool,
    ) -> anyhow::Result<(Vec<ClaimedDelivery>, bool)> {
        if !self.hold(store).await {
            return Ok((Vec::new(), false));
        }
        let (after, recorded_before, rewinds_before) = {
            let mut reads = self.reads.lock().expect("lane reads");
            if sweep {
                reads.cursor = None;
            }
            (reads.cursor.unwrap_or(START), reads.recorded, reads.rewinds)
        };
        let due = read_due_deliveries(store, after, limit, passed_over).await?;
        let more = i64::try_from(due.len()).unwrap_or(i64::MAX) >= limit;
        let fresh: Vec<_> = {
            let mut reads = self.reads.lock().expect("lane reads");
            if !passed_over.is_empty() {
                // Those endpoints' deliveries from here on were passed over.
                let skipped = reads.skipped_from.map_or(after, |from| from.min(after));
                reads.skipped_from = Some(skipped);
            }
            reads.cursor = if reads.rewinds != rewinds_before {
                // An endpoint stopped being full during the read, which may have passed it
                // over: the next read starts no later than this one did.
                reads.cursor.map(|cursor| cursor.min(after))
            } else if !more && passed_over.is_empty() {
                // Caught up: the next read starts from the oldest due delivery again.
                None
            } else {
                due.last().map(|last| last.position).or(reads.cursor)
            };
            // Results committed before the read began are in what it saw.
            reads.unrecorded.retain(|_, batch| batch.is_none_or(|n| n > recorded_before));
            due.into_iter()
                .filter(|delivery| {
                    let known = reads.unrecorded.contains_key(&delivery.id);
                    if !known {
                        reads.unrecorded.insert(delivery.id.clone(), None);
                    }
                    !known
                })
                .collect()
        };
        let ids: Vec<String> = fresh.iter().map(|d| d.id.clone()).collect();
        match attach_events(store, fresh, self.until()).await {
            Ok(claimed) => Ok((claimed, more)),
            Err(err) => {
                ids.iter().for_each(|id| self.forget(id));
                Err(err)
            }
        }
    }

    /// A full endpoint has room again: the next read goes back to where reads began
    /// passing over full endpoints' deliveries.
    pub(super) fn rewind(&self) {
        let mut reads = self.reads.lock().expect("lane reads");
        reads.rewinds += 1;
        if let Some(from) = reads.skipped_from.take() {
            reads.cursor = Some(reads.cursor.map_or(from, |cursor| cursor.min(from)));
        }
    }

    /// The results of `ids` have committed.
    pub(super) fn recorded<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        let mut reads = self.reads.lock().expect("lane reads");
        reads.recorded += 1;
        let batch = reads.recorded;
        for id in ids {
            if let Some(entry) = reads.unrecorded.get_mut(id) {
                *entry = Some(batch);
            }
        }
    }

    /// `id` was put back unsent: a later read may take it again.
    pub(super) fn forget(&self, id: &str) {
        self.reads.lock().expect("lane reads").unrecorded.remove(id);
    }

    /// Gives the lease up (after the last result has been recorded).
    pub(super) async fn release(&self, store: &Store) {
        if let Err(err) = store.release_lane_lease(&self.holder).await {
            tracing::warn!(error = %err, "releasing the queued lane's lease failed");
        }
    }
}

/// The queued lane's lease in `outbox_leases`, on the [`Store`] (see [`LaneLease`]).
pub trait LaneLeases {
    /// Whether this backend's queued lane is claimed under one lease for the whole lane
    /// rather than one per row: the choice `claim` makes its queued lane's strategy by.
    fn leases_whole_queued_lane(&self) -> bool;

    /// Takes the queued lane's lease for `holder` until `until`, or extends it if `holder`
    /// has it already; `false` while another holder's lease runs.
    fn take_lane_lease(
        &self,
        holder: &str,
        until: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Gives the queued lane's lease up (a clean shutdown), so a successor need not wait for
    /// it to run out.
    fn release_lane_lease(&self, holder: &str) -> impl Future<Output = anyhow::Result<()>> + Send;
}

impl LaneLeases for Store {
    fn leases_whole_queued_lane(&self) -> bool {
        // One writer: one process sends at a time anyway.
        self.backend() == Backend::Sqlite
    }

    async fn take_lane_lease(&self, holder: &str, until: i64) -> anyhow::Result<bool> {
        let taken = sqlx::query(
            "INSERT INTO outbox_leases (lane, holder, leased_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (lane) DO UPDATE SET holder = excluded.holder, \
                 leased_until = excluded.leased_until \
                 WHERE outbox_leases.holder = excluded.holder OR outbox_leases.leased_until <= $4 \
                 RETURNING holder",
        )
        .bind(QUEUED_LANE)
        .bind(holder)
        .bind(until)
        .bind(now_ms())
        .fetch_optional(self.writer())
        .await?;
        Ok(taken.is_some())
    }

    async fn release_lane_lease(&self, holder: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM outbox_leases WHERE lane = $1 AND holder = $2")
            .bind(QUEUED_LANE)
            .bind(holder)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}

/// Reads (on a reader connection, writing nothing) up to `limit` due queued-lane
/// deliveries after `after` in due order, skipping the `passed_over` endpoints, each
/// with its event (one read for both). For the holder of the lane's lease, which skips
/// the ones it has in flight itself.
async fn read_due_deliveries(
    store: &Store,
    after: (i64, i64),
    limit: i64,
    passed_over: &[String],
) -> anyhow::Result<Vec<DueDelivery>> {
    let read = format!(
        "SELECT d.rowid AS position, d.id, d.event_id, d.endpoint_id, d.attempts, \
             d.retry_step, d.fast, d.expires_at, d.next_attempt_at, d.created_at, e.event_type, \
             e.payload \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.status = 'pending' AND d.fast = 0 AND d.next_attempt_at <= $1 \
             AND (d.next_attempt_at, d.rowid) > ($2, $3) AND d.endpoint_id NOT IN ({}) \
             ORDER BY d.next_attempt_at, d.rowid LIMIT $5",
        store.json_ids(4)
    );
    let rows = sqlx::query(&read)
        .bind(now_ms())
        .bind(after.0)
        .bind(after.1)
        .bind(id_list(passed_over.iter().map(String::as_str)))
        .bind(limit)
        .fetch_all(store.reader())
        .await?;
    rows.iter().map(DueDelivery::with_event_from_row).collect()
}
