//! The session task of the live loop. Per session: the newest configuration waiting for the
//! organisation's price fires `pricing.calculated` once the debounce has passed — whatever
//! requests for earlier configurations are still out (their answers are stored for their
//! own hashes) — never while a request for the same configHash is out, and never for a
//! configuration already superseded. Each pending configuration has a deadline,
//! `timeoutMs` after the change that produced it; past it, if the screen still shows it
//! pending, it becomes `fallback`.

use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

use super::live::{Channel, Inner, LoopState, PricingEvent, Wanted};
use super::{IDLE_EXIT, Pricer, SWEEP_ABOVE};
use crate::catalog::{
    PricingContext, PricingRequest, PricingSource, PricingStatus, SessionPricing, SessionRef,
};

/// What the session task does next.
enum Step {
    /// Fire for the wanted configuration.
    Fire(Wanted),
    /// Sleep until then (or a kick), then look again.
    Wait(Instant),
    /// Nothing wanted, nothing out.
    Idle,
}

impl Inner {
    pub(super) fn channel(&self, session_id: &str) -> Arc<Channel> {
        let mut sessions = self.sessions.lock().expect("sessions map");
        if sessions.len() >= SWEEP_ABOVE {
            // Forget sessions nobody follows and nothing is pending for.
            sessions.retain(|_, channel| {
                channel.events.receiver_count() > 0
                    || channel.state.lock().expect("session state").running
            });
        }
        sessions
            .entry(session_id.to_owned())
            .or_insert_with(|| {
                Arc::new(Channel {
                    events: broadcast::channel(64).0,
                    state: Mutex::new(LoopState::default()),
                    kick: Notify::new(),
                    answered: Notify::new(),
                })
            })
            .clone()
    }

    /// The session's live state, if this process follows it (no entry is made).
    pub(super) fn followed(&self, session_id: &str) -> Option<Arc<Channel>> {
        self.sessions.lock().expect("sessions map").get(session_id).cloned()
    }

    /// Pushes a stored change to the session's followers in this process, if it has any
    /// (no entry is made for nobody), and announces it to the other processes (see
    /// [`super::replicas`]).
    pub(super) async fn publish(&self, session_id: &str, seq: i64, pricing: &SessionPricing) {
        if let Some(channel) = self.followed(session_id) {
            let _ = channel.events.send(PricingEvent { seq, pricing: pricing.clone() });
        }
        self.announce(session_id, seq).await;
    }

    /// Marks `config_hash` as the configuration awaiting the org's price — its pending ends
    /// by `deadline` — and makes sure the session task runs.
    pub(super) fn want(self: &Arc<Self>, session_id: &str, config_hash: &str, deadline: Instant) {
        let channel = self.channel(session_id);
        let mut state = channel.state.lock().expect("session state");
        let hash = config_hash.to_owned();
        state.wanted = Some(Wanted { hash, changed: Instant::now(), deadline });
        if !state.running {
            state.running = true;
            tokio::spawn(self.clone().drive(session_id.to_owned(), channel.clone()));
        }
        channel.kick.notify_one();
    }

    /// Holds the deadline of `config_hash`'s pending, whose request another process sent:
    /// past it, if the screen still shows it pending, this process falls it back — so the
    /// promise holds even if the process that made the change dies.
    pub(super) fn watch(self: &Arc<Self>, session_id: &str, config_hash: &str, deadline: Instant) {
        let channel = self.channel(session_id);
        let mut state = channel.state.lock().expect("session state");
        state.in_flight.entry(config_hash.to_owned()).or_insert(deadline);
        if !state.running {
            state.running = true;
            tokio::spawn(self.clone().drive(session_id.to_owned(), channel.clone()));
        }
        channel.kick.notify_one();
    }

    /// Takes what is due now out of `state`: the configurations whose deadline passed (to
    /// fall back), and the next step.
    fn next_step(&self, state: &mut LoopState, now: Instant) -> (Vec<String>, Step) {
        let mut expired: Vec<String> = state
            .in_flight
            .iter()
            .filter(|(_, due)| **due <= now)
            .map(|(h, _)| h.clone())
            .collect();
        for hash in &expired {
            state.in_flight.remove(hash);
        }
        if let Some(wanted) = state.wanted.take() {
            if wanted.deadline <= now {
                expired.push(wanted.hash); // never fired in time
            } else if state.in_flight.contains_key(&wanted.hash) {
                // Its request is out already: its answer or its deadline settles it.
            } else if now >= wanted.changed + self.debounce {
                return (expired, Step::Fire(wanted));
            } else {
                state.wanted = Some(wanted);
            }
        }
        let debounced = state.wanted.as_ref().map(|w| (w.changed + self.debounce).min(w.deadline));
        let wake = state.in_flight.values().copied().chain(debounced).min();
        (expired, wake.map_or(Step::Idle, Step::Wait))
    }

    /// The session task: fire what is wanted once debounced, fall back what is overdue,
    /// sleep until the next of those, repeat.
    async fn drive(self: Arc<Self>, session_id: String, channel: Arc<Channel>) {
        loop {
            let (expired, step) = {
                let mut state = channel.state.lock().expect("session state");
                self.next_step(&mut state, Instant::now())
            };
            for hash in expired {
                if let Err(err) = self.fall_back(&session_id, &hash).await {
                    tracing::warn!(error = %err, session = %session_id, "fallback failed");
                }
            }
            match step {
                Step::Fire(wanted) => {
                    let hash = wanted.hash.clone();
                    if let Err(err) = self.fire_live(&session_id, wanted, &channel).await {
                        tracing::warn!(error = %err, session = %session_id, "firing pricing.calculated failed");
                        channel.state.lock().expect("session state").in_flight.remove(&hash);
                    }
                }
                Step::Wait(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = channel.kick.notified() => {}
                    }
                }
                Step::Idle => {
                    tokio::select! {
                        _ = channel.kick.notified() => {}
                        _ = tokio::time::sleep(IDLE_EXIT) => {
                            let mut state = channel.state.lock().expect("session state");
                            if state.wanted.is_none() && state.in_flight.is_empty() {
                                state.running = false;
                                drop(state);
                                if channel.events.receiver_count() == 0 {
                                    self.sessions.lock().expect("sessions map").remove(&session_id);
                                }
                                return;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sends `pricing.calculated` (context `live`) for the wanted configuration, unless the
    /// customer has moved on or an answer for it is already stored; the organisation is
    /// given what is left until its deadline.
    async fn fire_live(
        self: &Arc<Self>,
        session_id: &str,
        wanted: Wanted,
        channel: &Channel,
    ) -> anyhow::Result<()> {
        let store = &self.store;
        let hash = wanted.hash.as_str();
        let session = store.session(session_id).await?;
        let Some(session) = session.filter(|s| s.config_hash == hash && s.submission_id.is_none())
        else {
            return Ok(());
        };
        // A plugin's answer does not stop the webhook: the org's system may observe or
        // override it. Any other answer for this configuration does.
        let answers = store.adjustments(session_id, Some(hash)).await?;
        if answers.iter().any(|answer| answer.source != PricingSource::Plugin) {
            return Ok(());
        }
        let org =
            store.org(&session.org_id).await?.ok_or_else(|| anyhow::anyhow!("org vanished"))?;
        let template = store
            .template_version(&org.id, &session.template_id, session.template_version)
            .await?
            .ok_or_else(|| anyhow::anyhow!("template vanished"))?;
        {
            let mut state = channel.state.lock().expect("session state");
            if state.wanted.as_ref().is_some_and(|w| w.hash != hash) {
                return Ok(()); // superseded while loading: the next step fires the newer one
            }
            if state.in_flight.contains_key(hash) {
                return Ok(());
            }
            state.in_flight.insert(hash.to_owned(), wanted.deadline);
        }
        let reference = SessionRef { id: session.id.clone(), origin: session.origin.clone() };
        let request = PricingRequest::new(
            PricingContext::Live,
            reference,
            &template,
            &session.configuration,
            &org.currency,
        );
        let left = wanted.deadline.saturating_duration_since(Instant::now());
        // Another replica's request for this configuration may be out: its answer or the
        // deadline (which this process keeps too) settles it.
        Pricer { inner: self.clone() }.fire(&org, &session, request, left).await?;
        Ok(())
    }

    /// No answer in time: the pending base price on screen becomes the fallback.
    async fn fall_back(&self, session_id: &str, hash: &str) -> anyhow::Result<()> {
        let Some(session) = self.store.session(session_id).await? else { return Ok(()) };
        if session.config_hash != hash || session.pricing.status != PricingStatus::Pending {
            return Ok(());
        }
        let mut shown = session.pricing.clone();
        shown.status = PricingStatus::Fallback;
        // Only if the screen still shows that pending price: an answer may have just landed.
        if let Some(seq) =
            self.store.set_session_pricing(session_id, &shown, Some(&session.pricing)).await?
        {
            self.publish(session_id, seq, &shown).await;
            crate::telemetry::live_settled("fallback", super::live::since(session.updated_at));
        }
        Ok(())
    }
}
