//! The per-session coordinator of live pricing.
//!
//! Every change of the price a customer sees goes through [`Pricer`], which stores it (with
//! a growing sequence number, the SSE event id) and publishes it to the session's stream.
//! A configuration that needs the organisation's price is *wanted*; a per-session task
//! waits for the debounce to pass and for any in-flight request to be answered or time out,
//! then fires `pricing.calculated` for the newest configuration — never for one already
//! superseded — and keeps at most one request in flight. An answer for the configuration on
//! screen confirms it; no answer by `timeoutMs` turns `pending` into `fallback`; a late
//! answer still applies; an answer for another configuration is kept for when the customer
//! returns to it.
//!
//! With an active Wasm plugin the org's price is computed in-process before the change is
//! stored: the PUT answer and the first stream event are already `confirmed/plugin`. The
//! webhook still fires beside it (an answer overrides the plugin's); a failed run falls
//! back to base pricing (or to the webhook answer when one arrives).
//!
//! The coordination state lives in this process: a deployment with several API replicas
//! needs sticky sessions for the live loop (the stored state stays correct regardless).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

use super::{PricingContext, PricingSource, PricingStatus, SessionPricing};
use crate::catalog::{self, Configuration, Pricing, Template};
use crate::clock::now_ms;
use crate::events::{self, EventType, NewEvent};
use crate::orgs::Org;
use crate::plugins::{Plugins, input::SessionRef};
use crate::store::{Session, Store};

mod plugin_rail;
mod submission;

/// How long a callback token stays valid: late answers still apply within it.
pub const CALLBACK_TOKEN_TTL_MS: i64 = 3_600_000;
/// Above this many live sessions, idle ones are dropped from memory.
const SWEEP_ABOVE: usize = 1024;
/// A session task with nothing to do exits after this long.
const IDLE_EXIT: Duration = Duration::from_secs(60);

/// One `pricing` event of a session's stream.
#[derive(Debug, Clone, Serialize)]
pub struct PricingEvent {
    /// SSE id; grows with every change.
    pub seq: i64,
    /// What the screen shows now.
    pub pricing: SessionPricing,
}

/// Coordinates live pricing for every session of this process. Cheap to clone.
#[derive(Clone)]
pub struct Pricer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pricer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pricer").field("debounce", &self.inner.debounce).finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    /// The in-process rail: the org's active Wasm plugin.
    plugins: Plugins,
    /// Base of callback URLs.
    public_url: String,
    /// Quiet time after the last change before firing.
    debounce: Duration,
    sessions: Mutex<HashMap<String, Arc<Channel>>>,
}

/// The live state of one session.
struct Channel {
    events: broadcast::Sender<PricingEvent>,
    state: Mutex<LoopState>,
    /// Wakes the session task when its state changed.
    kick: Notify,
    /// Wakes whoever waits for an answer (submission, autofill) when one is stored.
    answered: Notify,
}

#[derive(Default)]
struct LoopState {
    /// The newest configuration waiting for the org's price, and when it arrived.
    wanted: Option<(String, Instant)>,
    /// The configuration whose request is out, and its deadline.
    in_flight: Option<(String, Instant)>,
    /// Whether the session task runs.
    running: bool,
}

enum Step {
    AwaitAnswer(String, Instant),
    Debounce(Instant),
    Fire(String),
    Idle,
}

impl Pricer {
    /// A coordinator over `store` and `plugins`; callbacks are addressed under `public_url`.
    pub fn new(store: Store, plugins: Plugins, public_url: String, debounce: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                plugins,
                public_url,
                debounce,
                sessions: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Subscribes to a session's pricing events.
    pub fn subscribe(&self, session_id: &str) -> broadcast::Receiver<PricingEvent> {
        self.inner.channel(session_id).events.subscribe()
    }

    /// Whether configurations of `org` await an external price (a subscribed endpoint).
    pub async fn has_rail(&self, org: &Org) -> anyhow::Result<bool> {
        Ok(org.features().api_access
            && self
                .inner
                .store
                .has_subscribers(&org.id, EventType::PricingCalculated.as_str())
                .await?)
    }

    /// Opens a session on a validated configuration.
    pub async fn start_session(
        &self,
        org: &Org,
        template: &Template,
        origin: &str,
        configuration: &Configuration,
    ) -> anyhow::Result<Session> {
        let hash = catalog::config_hash(configuration);
        let session = SessionRef { id: Store::new_session_id(), origin: origin.to_owned() };
        let first =
            self.first_pricing(org, &session, false, template, configuration, &hash).await?;
        let session = self
            .inner
            .store
            .insert_session(
                &session.id,
                &org.id,
                &template.id,
                origin,
                configuration,
                &first.shown,
                first.plugin_answer.as_ref(),
            )
            .await?;
        if first.wanted {
            self.inner.want(&session.id, &hash);
        }
        Ok(session)
    }

    /// Applies a validated configuration change of `session` (as the caller read it) and
    /// returns what the screen shows now — or `None`, changing nothing, when the session is
    /// no longer as read (see [`Store::change_session_configuration`]): the caller reads it
    /// afresh and calls again.
    pub async fn change_configuration(
        &self,
        org: &Org,
        session: &Session,
        template: &Template,
        configuration: &Configuration,
    ) -> anyhow::Result<Option<SessionPricing>> {
        let hash = catalog::config_hash(configuration);
        if hash == session.config_hash {
            // Nothing to store: what the screen shows now, as stored (`session` may be a
            // hint older than the latest answer).
            let current = self.inner.store.session(&session.id).await?;
            return Ok(current
                .filter(|current| current.config_hash == hash && current.submission_id.is_none())
                .map(|current| {
                    self.resume_if_orphaned(&current);
                    current.pricing
                }));
        }
        let reference = SessionRef { id: session.id.clone(), origin: session.origin.clone() };
        let first = self
            .first_pricing(
                org,
                &reference,
                session.answered_externally,
                template,
                configuration,
                &hash,
            )
            .await?;
        let Some(seq) = self
            .inner
            .store
            .change_session_configuration(
                session,
                configuration,
                &first.shown,
                first.plugin_answer.as_ref(),
            )
            .await?
        else {
            return Ok(None);
        };
        self.inner.publish(&session.id, seq, &first.shown);
        if first.wanted {
            self.inner.want(&session.id, &hash);
        } else {
            self.inner.channel(&session.id).state.lock().expect("session state").wanted = None;
        }
        Ok(Some(first.shown))
    }

    /// A session still `pending` that no task of this process watches (the process that
    /// fired for it restarted) is priced again, so it cannot stay pending forever.
    pub fn resume_if_orphaned(&self, session: &Session) {
        if session.pricing.status != PricingStatus::Pending || session.submission_id.is_some() {
            return;
        }
        let running = self.inner.channel(&session.id).state.lock().expect("session state").running;
        if !running {
            self.inner.want(&session.id, &session.config_hash);
        }
    }

    /// Stores an answer for (session, configHash) and, if that configuration is on screen,
    /// shows it as confirmed. Frees the in-flight slot it answers.
    pub async fn apply_adjustment(
        &self,
        session: &Session,
        config_hash: &str,
        context: PricingContext,
        source: PricingSource,
        pricing: Pricing,
    ) -> anyhow::Result<bool> {
        let store = &self.inner.store;
        store.insert_adjustment(session, config_hash, context.as_str(), source, &pricing).await?;
        let shown = SessionPricing::new(config_hash, PricingStatus::Confirmed, source, pricing);
        let seq = store.set_session_pricing(&session.id, &shown, None).await?;
        if let Some(seq) = seq {
            self.inner.publish(&session.id, seq, &shown);
        }
        let channel = self.inner.channel(&session.id);
        channel.answered.notify_waiters();
        let mut state = channel.state.lock().expect("session state");
        if state.in_flight.as_ref().is_some_and(|(hash, _)| hash == config_hash) {
            state.in_flight = None;
            channel.kick.notify_one();
        }
        Ok(seq.is_some())
    }

    /// Fires `pricing.calculated` for a configuration of a session, with a fresh single-use
    /// callback token bound to its configHash.
    #[allow(clippy::too_many_arguments)]
    pub async fn fire(
        &self,
        org: &Org,
        session: &Session,
        template: &Template,
        configuration: &Configuration,
        base: &Pricing,
        context: PricingContext,
        submission: Option<Value>,
    ) -> anyhow::Result<()> {
        let hash = catalog::config_hash(configuration);
        let token = format!("cbt_{}", crate::ids::random_alphanumeric(40));
        let now = now_ms();
        let data = json!({
            "context": context.as_str(),
            "session": { "id": session.id, "origin": session.origin },
            "template": { "id": template.id, "name": template.name, "slug": template.slug },
            "configuration": configuration,
            "configHash": hash,
            "submission": submission,
            "basePricing": base,
            "callback": {
                "url": format!("{}/api/v1/configuration-sessions/{token}/adjustments", self.inner.public_url),
                "method": "PUT",
                "configHash": hash,
                "timeoutMs": org.pricing_timeout_ms,
            },
        });
        let event = NewEvent {
            event_type: EventType::PricingCalculated,
            customer_locale: None,
            data,
            expires_at: Some(now + org.pricing_timeout_ms),
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_callback_token(
            &token,
            session,
            &hash,
            context.as_str(),
            now + CALLBACK_TOKEN_TTL_MS,
        )
        .await?;
        events::emit(&mut tx, org, event).await?;
        tx.commit().await
    }
}

impl Inner {
    fn channel(&self, session_id: &str) -> Arc<Channel> {
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
    fn publish(&self, session_id: &str, seq: i64, pricing: &SessionPricing) {
        let channel = self.sessions.lock().expect("sessions map").get(session_id).cloned();
        if let Some(channel) = channel {
            let _ = channel.events.send(PricingEvent { seq, pricing: pricing.clone() });
        }
    }

    /// Marks `config_hash` as the configuration awaiting the org's price and makes sure the
    /// session task runs.
    fn want(self: &Arc<Self>, session_id: &str, config_hash: &str) {
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
        let base = catalog::base_pricing(&template, &session.configuration, &org.currency);
        let pricer = Pricer { inner: self.clone() };
        pricer
            .fire(
                &org,
                &session,
                &template,
                &session.configuration,
                &base,
                PricingContext::Live,
                None,
            )
            .await
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

/// The org's callback budget (`timeoutMs`).
fn budget(org: &Org) -> Duration {
    Duration::from_millis(u64::try_from(org.pricing_timeout_ms).unwrap_or(0))
}

fn clear_wanted(channel: &Channel, hash: &str) {
    let mut state = channel.state.lock().expect("session state");
    if state.wanted.as_ref().is_some_and(|(h, _)| h == hash) {
        state.wanted = None;
    }
}
