//! The delivery worker and its lanes. Per lane, a claim loop takes due deliveries (through
//! the lane's [`Claimer`]) into a ready queue, a sender loop sends them (each on its own
//! task, capped per lane and per endpoint), and one recorder writes the results in batches
//! ([`super::record`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use super::claim::{ClaimedDelivery, Claimer, claimers};
use super::record::{AttemptRecord, Outcome, record_results};
use super::retention::prune_log;
use super::signal::wake_on_announcements;
use super::{DeliveryConfig, Sender};
use crate::clock::now_ms;
use crate::store::Store;

/// The running worker; `join` waits until it has drained after shutdown.
pub struct Handle {
    tasks: JoinSet<()>,
}

impl Handle {
    /// Waits for the lanes to finish their in-flight deliveries and the recorder to flush.
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

struct Lane {
    /// How the lane takes due deliveries.
    claimer: Arc<Claimer>,
    sender: Sender,
    config: DeliveryConfig,
    records: mpsc::UnboundedSender<AttemptRecord>,
    /// What the lane holds per endpoint; claims pass over endpoints holding enough.
    loads: Mutex<HashMap<String, Load>>,
    /// Poked when the ready queue has room for a batch, so the claimer tops it up at once.
    refill: Notify,
    /// Poked when an endpoint's load stops being full: a claim may have passed it over,
    /// and its deliveries wait in the database.
    endpoint_room: Notify,
}

/// Starts the delivery worker (both lanes, the result recorder and log pruning) until
/// `shutdown` flips to true.
pub fn start(
    store: Store,
    sender: Sender,
    config: DeliveryConfig,
    shutdown: watch::Receiver<bool>,
) -> Handle {
    let lease_ms = i64::try_from(config.lease().as_millis()).unwrap_or(i64::MAX);
    let claimers = claimers(&store, lease_ms);
    let (records, results) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    let recorder = record_results(store.clone(), results, config.disable_after, claimers.clone());
    tasks.spawn(recorder);
    tasks.spawn(prune_log(store.clone(), config.retention, shutdown.clone()));
    tasks.spawn(wake_on_announcements(store, shutdown.clone()));
    for claimer in claimers {
        let lane = Arc::new(Lane {
            claimer,
            sender: sender.clone(),
            config: config.clone(),
            records: records.clone(),
            loads: Mutex::new(HashMap::new()),
            refill: Notify::new(),
            endpoint_room: Notify::new(),
        });
        tasks.spawn(lane.run(shutdown.clone()));
    }
    Handle { tasks }
}

impl Lane {
    /// The sender loop: takes claimed deliveries from the ready queue while the lane has
    /// room, parks those whose endpoint is at its cap until one of its requests finishes,
    /// and sends fast-path hand-offs at once. Claiming runs beside it, so a slot never waits
    /// for a database round trip.
    async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let (ready_tx, mut ready) = mpsc::channel(self.config.concurrency * 4);
        let claimer = tokio::spawn(self.clone().claim(ready_tx, shutdown.clone()));
        let mut handoff = self.claimer.inbox().await;
        let mut parked: HashMap<String, VecDeque<ClaimedDelivery>> = HashMap::new();
        let mut sending = Sending::default();
        let refill_at = ready.max_capacity().saturating_sub(self.claim_batch());
        loop {
            let room = sending.tasks.len() < self.config.concurrency;
            tokio::select! {
                Some(delivery) = ready.recv(), if room => {
                    if ready.len() <= refill_at {
                        self.refill.notify_one();
                    }
                    let key = endpoint_key(&delivery);
                    // Behind the endpoint's parked deliveries, if it has any: in due order.
                    if parked.contains_key(&key)
                        || self.sending(&key) >= self.config.endpoint_concurrency
                    {
                        parked.entry(key).or_default().push_back(delivery);
                    } else {
                        self.start(&mut sending, delivery);
                    }
                }
                Some(delivery) = async { handoff.as_mut()?.recv().await } => {
                    self.hold(&delivery);
                    self.start(&mut sending, delivery);
                }
                Some(finished) = sending.tasks.join_next_with_id() => {
                    // Released here, not inside the task: until this branch runs, the
                    // loop counts the request as in flight (so the endpoint's cap holds),
                    // and a task that panicked is released too.
                    let id = match finished {
                        Ok((id, ())) => id,
                        Err(err) => {
                            tracing::error!(error = %err, "a delivery task failed");
                            err.id()
                        }
                    };
                    let Some(endpoint) = sending.endpoints.remove(&id) else { continue };
                    self.release(&endpoint);
                    if let Some(queue) = parked.get_mut(&endpoint) {
                        let next = queue.pop_front();
                        if queue.is_empty() {
                            parked.remove(&endpoint);
                        }
                        if let Some(delivery) = next {
                            self.start(&mut sending, delivery);
                        }
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
        claimer.abort();
        // Let in-flight deliveries finish (bounded by their timeout) so results get recorded;
        // parked and queued ones keep their lease and are retried when it ends.
        let drain = async { while sending.tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(self.config.timeout + Duration::from_secs(1), drain).await;
    }

    fn start(self: &Arc<Self>, sending: &mut Sending, delivery: ClaimedDelivery) {
        let key = endpoint_key(&delivery);
        self.loads.lock().expect("loads").entry(key.clone()).or_default().sending += 1;
        let task = sending.tasks.spawn(self.clone().deliver(delivery));
        sending.endpoints.insert(task.id(), key);
    }

    /// Deliveries worth a claim round trip.
    fn claim_batch(&self) -> usize {
        self.config.concurrency.max(1)
    }

    /// The claimer: keeps the ready queue topped up from the database, passing over
    /// endpoints that hold enough already ([`Lane::full_endpoints`]). Claims when woken by a
    /// commit or the poll interval, and when a worthwhile batch of queue space is free
    /// unless that claim looks pointless (see `blocked_by`). The sender loop wakes it when
    /// space frees up and an endpoint when it stops being full; a finishing delivery alone
    /// wakes nobody.
    async fn claim(
        self: Arc<Self>,
        ready: mpsc::Sender<ClaimedDelivery>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let batch = self.claim_batch();
        let (mut must_look, mut sweep) = (true, true);
        // The last claim passed these full endpoints over and came back short, or filled
        // them up with all it took: the deliveries next in due order are most likely
        // theirs. While they are all full and the lane has work, queue space alone is no
        // reason to look again (the claim would wade through those deliveries to find
        // none); a commit, the poll, one of them with room again or a starved lane (free
        // slots, nothing queued: say a slow endpoint's deliveries all parked) is.
        let mut blocked_by: Vec<String> = Vec::new();
        loop {
            // Renewed even while the ready queue stays full and nothing is claimed.
            self.claimer.renew().await;
            let space = ready.capacity();
            let full = self.full_endpoints();
            let starved =
                space == ready.max_capacity() && self.sending_total() < self.config.concurrency;
            let pointless = !starved
                && !blocked_by.is_empty()
                && blocked_by.iter().all(|key| full.contains(key));
            let mut more_due = false;
            let look = space > 0 && (must_look || (space >= batch && !pointless));
            must_look = false;
            if look {
                match self.claimer.take_due(space, &full, std::mem::take(&mut sweep)).await {
                    Ok((claimed, more)) => {
                        more_due = more;
                        claimed.iter().for_each(|delivery| self.hold(delivery));
                        let now_full = self.full_endpoints();
                        let filled = !claimed.is_empty()
                            && claimed.iter().all(|d| now_full.contains(&endpoint_key(d)));
                        blocked_by = match (more, filled) {
                            (false, _) => full,
                            (true, true) => now_full,
                            (true, false) => Vec::new(),
                        };
                        for delivery in claimed {
                            if ready.send(delivery).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(err) => {
                        let fast = self.claimer.is_fast();
                        tracing::warn!(error = %err, fast, "claiming deliveries failed")
                    }
                }
            }
            if more_due {
                continue;
            }
            tokio::select! {
                _ = self.claimer.woken() => {
                    must_look = true;
                    blocked_by.clear();
                }
                // Both mean: look again if `blocked_by` has room now and the queue has space.
                _ = self.endpoint_room.notified() => {}
                _ = self.refill.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {
                    (must_look, sweep) = (true, true);
                    blocked_by.clear();
                }
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Deliveries of `endpoint` being sent right now.
    fn sending(&self, endpoint: &str) -> usize {
        self.loads.lock().expect("loads").get(endpoint).map_or(0, |load| load.sending)
    }

    /// Deliveries of every endpoint being sent right now.
    fn sending_total(&self) -> usize {
        self.loads.lock().expect("loads").values().map(|load| load.sending).sum()
    }

    /// A load at which an endpoint is kept busy until the next claim: its cap in flight
    /// and a claim batch queued behind them. (One claim may take it further: a claim is
    /// limited by the ready queue's space, not per endpoint.)
    fn full_load(&self) -> usize {
        self.config.endpoint_concurrency + self.claim_batch()
    }

    /// Endpoints whose load is full: the claimer leaves their deliveries in the database.
    /// (Passing over endpoints merely at their cap in flight would make nearly every claim
    /// of a busy endpoint wade through all its due deliveries to find none.)
    fn full_endpoints(&self) -> Vec<String> {
        let full = self.full_load();
        let loads = self.loads.lock().expect("loads");
        loads.iter().filter(|(_, load)| load.held >= full).map(|(key, _)| key.clone()).collect()
    }

    /// `delivery` joins the lane's load (claimed or handed over, not finished).
    fn hold(&self, delivery: &ClaimedDelivery) {
        self.loads.lock().expect("loads").entry(endpoint_key(delivery)).or_default().held += 1;
    }

    /// A delivery of `key` leaves the lane's load (sent or given up). When its endpoint stops
    /// being full, the claimer is woken: a claim may have passed the endpoint over, and
    /// with the ready queue empty nothing else would wake it for those deliveries.
    fn release(&self, key: &str) {
        let mut loads = self.loads.lock().expect("loads");
        let Some(load) = loads.get_mut(key) else { return };
        load.held = load.held.saturating_sub(1);
        load.sending = load.sending.saturating_sub(1);
        let room_again = load.held + 1 == self.full_load();
        if load.held == 0 {
            loads.remove(key);
        }
        drop(loads);
        if room_again {
            self.claimer.rewind();
            self.endpoint_room.notify_one();
        }
    }

    /// Sends one delivery and queues its result (the sender loop releases it).
    async fn deliver(self: Arc<Self>, delivery: ClaimedDelivery) {
        let timeout_ms = i64::try_from(self.config.timeout.as_millis()).unwrap_or(i64::MAX);
        let leased_until = self.claimer.leased_until(&delivery);
        if now_ms().saturating_add(timeout_ms) > leased_until {
            // Waited in the queue so long that its lease could end mid-request, and another
            // claim could send it too: it is left to that claim (due again once the lease
            // ends).
            tracing::debug!(delivery = %delivery.id, "lease nearly over; left for the next claim");
            self.claimer.forget(&delivery.id);
            return;
        }
        let record = self.attempt(&delivery).await;
        observe(&delivery, &record, self.claimer.is_fast());
        if self.records.send(record).is_err() {
            tracing::warn!(delivery = %delivery.id, "recorder stopped; the lease will expire and retry");
        }
    }

    async fn attempt(&self, delivery: &ClaimedDelivery) -> AttemptRecord {
        let now = now_ms();
        let mut record = AttemptRecord {
            delivery_id: delivery.id.clone(),
            endpoint_id: delivery.endpoint.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            attempt: 0,
            started_at: now,
            duration_ms: 0,
            status_code: None,
            error: None,
            response_snippet: None,
            outcome: Outcome::Failed,
            endpoint_gone: false,
        };
        let endpoint = match &delivery.endpoint {
            None => {
                return AttemptRecord { error: Some("endpoint deleted".into()), ..record };
            }
            Some(endpoint) if !endpoint.enabled => {
                return AttemptRecord { error: Some("endpoint disabled".into()), ..record };
            }
            Some(endpoint) => endpoint,
        };
        let budget = delivery.expires_at.map(|deadline| deadline - now);
        if budget.is_some_and(|left| left <= 0) {
            let error = Some("callback budget exhausted".into());
            return AttemptRecord { error, outcome: Outcome::Expired, ..record };
        }
        let timeout = budget.map(|left| {
            Duration::from_millis(u64::try_from(left).unwrap_or(0)).min(self.config.timeout)
        });
        let response = self
            .sender
            .send(endpoint, &delivery.event_type, &delivery.event_id, &delivery.payload, timeout)
            .await;
        record.attempt = delivery.attempts + 1;
        record.duration_ms = i64::try_from(response.duration.as_millis()).unwrap_or(i64::MAX);
        record.status_code = response.status.map(i64::from);
        record.response_snippet = response.snippet.clone();
        record.outcome = if response.is_success() {
            Outcome::Delivered
        } else if response.status == Some(410) {
            record.endpoint_gone = true;
            Outcome::Failed
        } else {
            self.config.retry_schedule.after_failure(
                now_ms(),
                delivery.retry_step,
                delivery.expires_at,
                response.retry_after,
            )
        };
        record.error = match (&response.error, response.status) {
            (Some(error), _) => Some(error.clone()),
            (None, Some(status)) if !response.is_success() => Some(format!("HTTP {status}")),
            _ => None,
        };
        record
    }
}

/// The sender loop's requests in flight, with the endpoint of each.
#[derive(Default)]
struct Sending {
    tasks: JoinSet<()>,
    endpoints: HashMap<tokio::task::Id, String>,
}

/// What a lane holds of one endpoint.
#[derive(Debug, Default)]
struct Load {
    /// Claimed (or handed over) and not finished: queued, parked or being sent.
    held: usize,
    /// Being sent: at the endpoint's cap, further deliveries park.
    sending: usize,
}

/// Counts an attempt; a failed one is logged once, with its ids.
fn observe(delivery: &ClaimedDelivery, record: &AttemptRecord, fast: bool) {
    let outcome = match record.outcome {
        Outcome::Delivered => "delivered",
        Outcome::Retry { .. } => "retry",
        Outcome::Failed => "failed",
        Outcome::Expired => "expired",
    };
    let elapsed = Duration::from_millis(u64::try_from(record.duration_ms).unwrap_or(0));
    crate::telemetry::webhook_attempt(fast, outcome, elapsed);
    if record.outcome == Outcome::Delivered {
        let since_commit = now_ms().saturating_sub(delivery.committed_at);
        let since_commit = Duration::from_millis(u64::try_from(since_commit).unwrap_or(0));
        crate::telemetry::webhook_received(fast, since_commit);
    }
    if record.outcome != Outcome::Delivered {
        tracing::warn!(delivery = %delivery.id, event = %delivery.event_id,
            endpoint = %record.endpoint_id, event_type = %delivery.event_type,
            attempt = record.attempt, status = ?record.status_code, error = ?record.error,
            outcome, "webhook delivery attempt failed");
    }
}

fn endpoint_key(delivery: &ClaimedDelivery) -> String {
    delivery.endpoint.as_ref().map_or_else(String::new, |e| e.id.clone())
}
