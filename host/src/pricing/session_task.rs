//! The session task of the live loop: per session, wait for the debounce to pass and for
//! any in-flight request to be answered or time out, then fire `pricing.calculated` for
//! the newest configuration — never for one already superseded — keeping at most one
//! request in flight; no answer by `timeoutMs` turns `pending` into `fallback`.

use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

use super::live::{Channel, Inner, LoopState, PricingEvent};
use super::{IDLE_EXIT, Pricer, SWEEP_ABOVE, budget};
use crate::catalog::{
    PricingContext, PricingRequest, PricingSource, PricingStatus, SessionPricing, SessionRef,
};

enum Step {
    AwaitAnswer(String, Instant),
    Debounce(Instant),
    Fire(String),
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

    /// Pushes to the session's followers, if it has any (no entry is made for nobody).
    pub(super) fn publish(&self, session_id: &str, seq: i64, pricing: &SessionPricing) {
        let channel = self.sessions.lock().expect("sessions map").get(session_id).cloned();
        if let Some(channel) = channel {
            let _ = channel.events.send(PricingEvent { seq, pricing: pricing.clone() });
        }
    }

    /// Marks `config_hash` as the configuration awaiting the org's price and makes sure the
    /// session task runs.
    pub(super) fn want(self: &Arc<Self>, session_id: &str, config_hash: &str) {
        let channel = self.channel(session_id);
        let mut state = channel.state.lock().expect("session state");
        state.wanted = Some((config_hash.to_owned(), Instant::now()));
        if !state.running {
            state.running = true;
            tokio::spawn(self.clone().drive(session_id.to_owned(), channel.clone()));
        }
        channel.kick.notify_one();
    }

    fn next_step(&self, state: &LoopState) -> Step {
        if let Some((hash, deadline)) = &state.in_flight {
            return Step::AwaitAnswer(hash.clone(), *deadline);
        }
        match &state.wanted {
            Some((_, changed)) if Instant::now() < *changed + self.debounce => {
                Step::Debounce(*changed + self.debounce)
            }
            Some((hash, _)) => Step::Fire(hash.clone()),
            None => Step::Idle,
        }
    }

    /// The session task: debounce, fire, await the answer or the deadline, repeat.
    async fn drive(self: Arc<Self>, session_id: String, channel: Arc<Channel>) {
        loop {
            let step = self.next_step(&channel.state.lock().expect("session state"));
            match step {
                Step::AwaitAnswer(hash, deadline) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => {
                            let timed_out = {
                                let mut state = channel.state.lock().expect("session state");
                                let same = state.in_flight.as_ref().is_some_and(|(h, _)| *h == hash);
                                if same {
                                    state.in_flight = None;
                                }
                                same
                            };
                            if timed_out
                                && let Err(err) = self.fall_back(&session_id, &hash).await {
                                    tracing::warn!(error = %err, session = %session_id, "fallback failed");
                                }
                        }
                        _ = channel.kick.notified() => {}
                    }
                }
                Step::Debounce(until) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => {}
                        _ = channel.kick.notified() => {}
                    }
                }
                Step::Fire(hash) => {
                    if let Err(err) = self.fire_live(&session_id, &hash, &channel).await {
                        tracing::warn!(error = %err, session = %session_id, "firing pricing.calculated failed");
                        let mut state = channel.state.lock().expect("session state");
                        state.in_flight = None;
                    }
                }
                Step::Idle => {
                    tokio::select! {
                        _ = channel.kick.notified() => {}
                        _ = tokio::time::sleep(IDLE_EXIT) => {
                            let mut state = channel.state.lock().expect("session state");
                            if state.wanted.is_none() && state.in_flight.is_none() {
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
    /// customer has moved on or an answer for it is already stored.
    async fn fire_live(
        self: &Arc<Self>,
        session_id: &str,
        hash: &str,
        channel: &Channel,
    ) -> anyhow::Result<()> {
        let store = &self.store;
        let session = store.session(session_id).await?;
        let Some(session) = session.filter(|s| s.config_hash == hash && s.submission_id.is_none())
        else {
            clear_wanted(channel, hash);
            return Ok(());
        };
        // A plugin's answer does not stop the webhook: the org's system may observe or
        // override it. Any other answer for this configuration does.
        let answers = store.adjustments(session_id, Some(hash)).await?;
        if answers.iter().any(|answer| answer.source != PricingSource::Plugin) {
            clear_wanted(channel, hash);
            return Ok(());
        }
        let org =
            store.org(&session.org_id).await?.ok_or_else(|| anyhow::anyhow!("org vanished"))?;
        let template = store
            .template(&org.id, &session.template_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("template vanished"))?;
        {
            let mut state = channel.state.lock().expect("session state");
            if state.wanted.as_ref().is_none_or(|(h, _)| h != hash) {
                return Ok(()); // superseded while loading: the next step fires the newer one
            }
            state.wanted = None;
            state.in_flight = Some((hash.to_owned(), Instant::now() + budget(&org)));
        }
        let reference = SessionRef { id: session.id.clone(), origin: session.origin.clone() };
        let request = PricingRequest::new(
            PricingContext::Live,
            reference,
            &template,
            &session.configuration,
            &org.currency,
        );
        Pricer { inner: self.clone() }.fire(&org, &session, request).await
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
            self.publish(session_id, seq, &shown);
        }
        Ok(())
    }
}

fn clear_wanted(channel: &Channel, hash: &str) {
    let mut state = channel.state.lock().expect("session state");
    if state.wanted.as_ref().is_some_and(|(h, _)| h == hash) {
        state.wanted = None;
    }
}
