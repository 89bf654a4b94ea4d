//! Waking this process's delivery lanes when deliveries commit: a [`Signal`] per store,
//! which every transaction of the store reaches. Fast-path deliveries can be handed to this
//! process's fast lane directly (already leased by the transaction that wrote them), so
//! they leave without a claim round trip. A process without a delivery worker (an API
//! replica) announces what it wrote on the store's bus, waking the workers of the others
//! (Postgres); a worker also polls, for what an announcement missed.

use std::sync::Mutex;

use tokio::sync::{Notify, mpsc};

use super::claim::ClaimedDelivery;
use crate::store::{Attachment, Notice, Store, Topic, Tx};

/// The wake-ups of this process's delivery lanes, and the fast lane's hand-off.
#[derive(Debug, Default)]
pub(super) struct Signal {
    /// Business events (queued cadence).
    pub(super) queued: Notify,
    /// `pricing.calculated` (fast path), when no hand-off is attached.
    pub(super) fast: Notify,
    /// The fast lane's inbox and lease (ms), attached by a running worker (without one,
    /// what this process writes is announced to the processes that have one).
    handoff: Mutex<Option<FastHandoff>>,
}

impl Attachment for Signal {}

#[derive(Debug, Clone)]
struct FastHandoff {
    inbox: mpsc::UnboundedSender<ClaimedDelivery>,
    lease_ms: i64,
}

impl Signal {
    /// Routes fast-path deliveries committed from now on to `inbox`, leased for `lease_ms`.
    pub(super) fn attach_fast_lane(
        &self,
        inbox: mpsc::UnboundedSender<ClaimedDelivery>,
        lease_ms: i64,
    ) {
        *self.handoff.lock().expect("handoff slot") = Some(FastHandoff { inbox, lease_ms });
    }

    /// How long a fast-path delivery written now is leased for its hand-off; `None`: no
    /// fast lane runs here to take it.
    pub(super) fn fast_lease(&self) -> Option<i64> {
        self.handoff.lock().expect("handoff slot").as_ref().map(|h| h.lease_ms)
    }

    /// Hands committed fast-path deliveries to the fast lane (or, with none attached, wakes
    /// whoever polls).
    pub(super) fn hand_off(&self, deliveries: Vec<ClaimedDelivery>) {
        let slot = self.handoff.lock().expect("handoff slot");
        match slot.as_ref() {
            Some(handoff) => {
                for delivery in deliveries {
                    // A closed inbox (worker stopped) leaves the leased row to be polled later.
                    let _ = handoff.inbox.send(delivery);
                }
            }
            None => self.fast.notify_one(),
        }
    }
}

/// Wakes this process's queued lane once `tx` commits (it wrote due queued deliveries).
pub(super) fn wake_queued_on_commit(tx: &mut Tx) {
    let signal = tx.attached::<Signal>();
    tx.after_commit(Box::new(move || signal.queued.notify_one()));
}

/// Wakes the other processes' workers when `tx` commits, if this process has none to
/// deliver what `tx` wrote.
pub(super) async fn wake_others_on_commit(tx: &mut Tx) -> anyhow::Result<()> {
    if tx.attached::<Signal>().fast_lease().is_some() {
        return Ok(()); // this process runs a worker
    }
    tx.announce(Topic::Outbox, "").await
}

/// Wakes this process's lanes whenever another process announces deliveries, until
/// `shutdown` flips.
pub(super) async fn wake_on_announcements(
    store: Store,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let signal = store.attached::<Signal>();
    let mut notices = store.subscribe(Topic::Outbox);
    loop {
        tokio::select! {
            notice = notices.recv() => match notice {
                Ok(Notice::Message(_) | Notice::Missed)
                | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    signal.queued.notify_one();
                    signal.fast.notify_one();
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
}
