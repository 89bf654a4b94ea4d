//! Claiming: how a lane takes due deliveries, chosen in one place ([`claimers`]).
//!
//! - **Hand-off** (the fast lane, in this process): the transaction that writes a fast-path
//!   delivery leases it right away and hands it to this process's fast lane once it
//!   commits (see `emit` and `signal`), so it leaves without a claim round trip.
//! - **A lease per row** (both lanes on Postgres, the fast lane on SQLite, for what no
//!   hand-off brought): a claim moves the due rows' `next_attempt_at` to the end of a lease
//!   (a visibility timeout), so no other claim sees them meanwhile and a crashed process's
//!   work falls due again when it ends.
//! - **One lease for the lane** (the queued lane on SQLite, see [`LaneLease`]): one process
//!   at a time holds the lane, renewed while it runs; its claims are plain reads in due
//!   order and the lane remembers what it has in flight until the results commit. The
//!   single SQLite writer then does no work per claimed delivery: only the result is
//!   written. Should the process die, its deliveries are still pending and due, and the next
//!   holder takes them when the lane's lease ends.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{Mutex, MutexGuard, mpsc};

use super::attach::{DueDelivery, attach_events};
use super::endpoints::Endpoint;
use super::lane_lease::{LaneLease, LaneLeases};
use super::signal::Signal;
use crate::clock::now_ms;
use crate::store::{Store, id_list};

/// Most deliveries one claim reads: fewer than the rows sqlx buffers per SQLite query (50).
/// Past that buffer the connection thread blocks until the async side takes a row, then
/// wakes for each one taken: a context switch per row on both sides (a 64-row claim made
/// the drain switch four times as often). Several smaller claims cost less.
const ROWS_PER_CLAIM: usize = 48;

/// A delivery a worker now owns until its lease ends.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// `dlv_…`
    pub id: String,
    /// The event id (the delivery id on the wire).
    pub event_id: String,
    /// Event type header.
    pub event_type: String,
    /// Body to POST (reference-counted: retries and the event's other deliveries read
    /// with it share one copy).
    pub payload: Bytes,
    /// Attempts before this one.
    pub attempts: i64,
    /// Position in the retry schedule.
    pub retry_step: i64,
    /// Fast path: the end of the callback budget.
    pub expires_at: Option<i64>,
    /// When its event was written, in the transaction that committed it (epoch ms): the
    /// start of the commit → receipt latency.
    pub committed_at: i64,
    /// When the lease ends (epoch ms) and the delivery falls due again for any claim.
    pub leased_until: i64,
    /// The endpoint, or `None` if it was deleted.
    pub endpoint: Option<Arc<Endpoint>>,
}

/// How one lane takes due deliveries.
pub(super) struct Claimer {
    store: Store,
    signal: Arc<Signal>,
    /// The fast lane's (`pricing.calculated`)?
    fast: bool,
    /// How long a claimed delivery stays reserved (ms).
    lease_ms: i64,
    strategy: Strategy,
}

enum Strategy {
    /// Deliveries handed over by the committing transaction, and a lease per row for the
    /// rest (the fast lane).
    HandOff(Mutex<mpsc::UnboundedReceiver<ClaimedDelivery>>),
    /// A lease per row.
    RowLease,
    /// One lease for the whole lane.
    LaneLease(LaneLease),
}

/// The claimers of the fast and the queued lane, for deliveries leased for `lease_ms`: the
/// one place the strategies are chosen. The fast lane's hand-off is attached to the store's
/// [`Signal`] from now on.
pub(super) fn claimers(store: &Store, lease_ms: i64) -> [Arc<Claimer>; 2] {
    let signal = store.attached::<Signal>();
    let (inbox, handoff) = mpsc::unbounded_channel();
    signal.attach_fast_lane(inbox, lease_ms);
    let queued = if store.leases_whole_queued_lane() {
        Strategy::LaneLease(LaneLease::new(lease_ms))
    } else {
        Strategy::RowLease
    };
    let claimer = |fast, strategy| {
        let signal = signal.clone();
        Arc::new(Claimer { store: store.clone(), signal, fast, lease_ms, strategy })
    };
    [claimer(true, Strategy::HandOff(Mutex::new(handoff))), claimer(false, queued)]
}

impl Claimer {
    /// The fast lane's?
    pub(super) fn is_fast(&self) -> bool {
        self.fast
    }

    /// Resolves when this process committed deliveries of the lane (none handed over).
    pub(super) async fn woken(&self) {
        if self.fast {
            self.signal.fast.notified().await
        } else {
            self.signal.queued.notified().await
        }
    }

    /// The fast lane's inbox of handed-over deliveries, held by its sender loop.
    pub(super) async fn inbox(
        &self,
    ) -> Option<MutexGuard<'_, mpsc::UnboundedReceiver<ClaimedDelivery>>> {
        match &self.strategy {
            Strategy::HandOff(inbox) => Some(inbox.lock().await),
            _ => None,
        }
    }

    /// Keeps the lane's lease (renewed even while nothing is claimed).
    pub(super) async fn renew(&self) {
        if let Strategy::LaneLease(lane_lease) = &self.strategy {
            lane_lease.hold(&self.store).await;
        }
    }

    /// Due deliveries to send, as many as the ready queue's `space` takes (and
    /// [`ROWS_PER_CLAIM`] at most), skipping the `passed_over` endpoints' and those of
    /// disabled organisations ([`super::endpoints::paused`]); and whether more
    /// may be due behind them. `sweep`: look behind the lane lease's read cursor too (see
    /// [`LaneLease::claim`]).
    pub(super) async fn take_due(
        &self,
        space: usize,
        passed_over: &[String],
        sweep: bool,
    ) -> anyhow::Result<(Vec<ClaimedDelivery>, bool)> {
        let limit = i64::try_from(space.min(ROWS_PER_CLAIM)).unwrap_or(i64::MAX);
        // Disabled organisations' deliveries wait where they are.
        let paused = super::endpoints::paused(&self.store).await?;
        let with_paused: Vec<String>;
        let passed_over = if paused.is_empty() {
            passed_over
        } else {
            with_paused = passed_over.iter().chain(paused.iter()).cloned().collect();
            &with_paused
        };
        if let Strategy::LaneLease(lane_lease) = &self.strategy {
            return lane_lease.claim(&self.store, limit, passed_over, sweep).await;
        }
        let claimed = self.lease_rows(limit, passed_over).await?;
        let more = i64::try_from(claimed.len()).unwrap_or(i64::MAX) >= limit;
        Ok((claimed, more))
    }

    /// When `delivery`'s lease ends: it is only sent while enough of it remains.
    pub(super) fn leased_until(&self, delivery: &ClaimedDelivery) -> i64 {
        match &self.strategy {
            Strategy::LaneLease(lane_lease) => lane_lease.until(),
            _ => delivery.leased_until,
        }
    }

    /// A full endpoint has room again: reads go back to its passed-over deliveries.
    pub(super) fn rewind(&self) {
        if let Strategy::LaneLease(lane_lease) = &self.strategy {
            lane_lease.rewind();
        }
    }

    /// `id` was put back unsent: a later claim may take it again.
    pub(super) fn forget(&self, id: &str) {
        if let Strategy::LaneLease(lane_lease) = &self.strategy {
            lane_lease.forget(id);
        }
    }

    /// The results of `ids` have committed.
    pub(super) fn recorded<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        if let Strategy::LaneLease(lane_lease) = &self.strategy {
            lane_lease.recorded(ids);
        }
    }

    /// Gives the lane's lease up (after the last result has been recorded).
    pub(super) async fn release(&self) {
        if let Strategy::LaneLease(lane_lease) = &self.strategy {
            lane_lease.release(&self.store).await;
        }
    }

    /// Leases up to `limit` due deliveries of this lane, oldest first, skipping the
    /// `passed_over` endpoints' deliveries: each leased delivery's `next_attempt_at` moves
    /// to the end of the lease. The outer `next_attempt_at` check makes concurrent claimers
    /// on Postgres skip rows another worker took meanwhile. Leased rows leave the due range,
    /// so a claim never wades through the deliveries already in flight.
    ///
    /// The single writer only leases (one statement); the events' bodies and the endpoints
    /// are read beside it by reader connections ([`attach_events`]). Every statement text is
    /// fixed (lists travel as JSON arrays), so each is prepared once per connection.
    async fn lease_rows(
        &self,
        limit: i64,
        passed_over: &[String],
    ) -> anyhow::Result<Vec<ClaimedDelivery>> {
        let store = &self.store;
        let now = now_ms();
        let claim = format!(
            "UPDATE deliveries SET next_attempt_at = $1 WHERE id IN (\
               SELECT id FROM deliveries WHERE status = 'pending' AND fast = $2 \
               AND next_attempt_at <= $3 AND endpoint_id NOT IN ({}) \
               ORDER BY next_attempt_at LIMIT $4\
             ) AND next_attempt_at <= $3 \
             RETURNING id, event_id, endpoint_id, attempts, retry_step, fast, expires_at, \
             next_attempt_at, created_at, CAST(0 AS BIGINT) AS position",
            store.json_ids(5)
        );
        let claimed = sqlx::query(&claim)
            .bind(now + self.lease_ms)
            .bind(i64::from(self.fast))
            .bind(now)
            .bind(limit)
            .bind(id_list(passed_over.iter().map(String::as_str)))
            .fetch_all(store.writer())
            .await?;
        let claimed: Vec<DueDelivery> =
            claimed.iter().map(DueDelivery::from_row).collect::<anyhow::Result<_>>()?;
        attach_events(store, claimed, now + self.lease_ms).await
    }
}
