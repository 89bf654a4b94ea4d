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
//! Several replicas may serve one session, each request landing anywhere: every stored
//! change is announced to the other processes, which push it to the streams they hold and
//! settle their own waits ([`super::replicas`]); a configuration's request is claimed in
//! the database before it fires, so no two replicas fire for one configHash at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

use super::Session;
use super::budget;
use crate::catalog::{
    self, CatalogUpdate, Configuration, Pricing, PricingContext, PricingRequest, PricingSource,
    PricingStatus, SessionPricing, SessionRef, Template,
};
use crate::orgs::Org;
use crate::plugins::Plugins;
use crate::store::Store;

/// Above this many live sessions, idle ones are dropped from memory.
pub(super) const SWEEP_ABOVE: usize = 1024;
/// A session task with nothing to do exits after this long.
pub(super) const IDLE_EXIT: Duration = Duration::from_secs(60);

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
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Pricer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pricer").field("debounce", &self.inner.debounce).finish_non_exhaustive()
    }
}

pub(super) struct Inner {
    pub(super) store: Store,
    /// The in-process rail: the org's active Wasm plugin.
    pub(super) plugins: Plugins,
    /// Base of callback URLs.
    pub(super) public_url: String,
    /// Quiet time after the last change before firing.
    pub(super) debounce: Duration,
    /// The live state of every session this process follows.
    pub(super) sessions: Mutex<HashMap<String, Arc<Channel>>>,
}

/// The live state of one session.
pub(super) struct Channel {
    /// The session's stream.
    pub(super) events: broadcast::Sender<PricingEvent>,
    /// What the session task works on.
    pub(super) state: Mutex<LoopState>,
    /// Wakes the session task when its state changed.
    pub(super) kick: Notify,
    /// Wakes whoever waits for an answer (submission, autofill) when one is stored.
    pub(super) answered: Notify,
}

/// What the session task works on.
#[derive(Default)]
pub(super) struct LoopState {
    /// The newest configuration waiting for the org's price.
    pub(super) wanted: Option<Wanted>,
    /// Requests out, by configHash, with the deadline of their configuration's pending.
    pub(super) in_flight: HashMap<String, Instant>,
    /// Whether the session task runs.
    pub(super) running: bool,
}

/// A configuration waiting for the organisation's price.
#[derive(Debug, Clone)]
pub(super) struct Wanted {
    /// Its configHash.
    pub(super) hash: String,
    /// When the customer changed to it (the debounce counts from here).
    pub(super) changed: Instant,
    /// When its `pending` must end: `timeoutMs` after the change.
    pub(super) deadline: Instant,
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

    /// Opens a session on a validated configuration.
    pub async fn start_session(
        &self,
        org: &Org,
        template: &Template,
        origin: &str,
        configuration: &Configuration,
    ) -> anyhow::Result<Session> {
        let session = SessionRef { id: Store::new_session_id(), origin: origin.to_owned() };
        let request = PricingRequest::new(
            PricingContext::Live,
            session.clone(),
            template,
            configuration,
            &org.currency,
        );
        let hash = request.config_hash.clone();
        let first = self.first_pricing(org, false, request).await?;
        observe_change(&first.shown);
        let session = self
            .inner
            .store
            .insert_session(
                &session.id,
                &org.id,
                template,
                origin,
                configuration,
                &first.shown,
                first.plugin_answer.as_ref(),
            )
            .await?;
        if first.wanted {
            self.inner.want(&session.id, &hash, Instant::now() + budget(org));
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
            let Some(current) = current
                .filter(|current| current.config_hash == hash && current.submission_id.is_none())
            else {
                return Ok(None);
            };
            self.resume_if_orphaned(&current).await?;
            return Ok(Some(current.pricing));
        }
        let reference = SessionRef { id: session.id.clone(), origin: session.origin.clone() };
        let request = PricingRequest::new(
            PricingContext::Live,
            reference,
            template,
            configuration,
            &org.currency,
        );
        let mut first = self.first_pricing(org, session.answered_externally, request).await?;
        observe_change(&first.shown);
        if template.version != session.template_version {
            first.shown.catalog_update =
                self.catalog_update(org, session, template, configuration).await?;
        }
        let Some(seq) = self
            .inner
            .store
            .change_session_configuration(
                session,
                template.version,
                configuration,
                &first.shown,
                first.plugin_answer.as_ref(),
            )
            .await?
        else {
            return Ok(None);
        };
        self.inner.publish(&session.id, seq, &first.shown).await;
        if first.wanted {
            self.inner.want(&session.id, &hash, Instant::now() + budget(org));
        } else if let Some(channel) = self.inner.followed(&session.id) {
            channel.state.lock().expect("session state").wanted = None;
        }
        Ok(Some(first.shown))
    }

    /// What the customer is told when a change moves `session` from the template version it
    /// priced against to `template` (newer): nothing if the old version prices
    /// `configuration` the same.
    async fn catalog_update(
        &self,
        org: &Org,
        session: &Session,
        template: &Template,
        configuration: &Configuration,
    ) -> anyhow::Result<Option<CatalogUpdate>> {
        let store = &self.inner.store;
        let previous = store.template_version(&org.id, &template.id, session.template_version);
        let previous_base_subtotal = previous.await?.and_then(|previous| {
            let valid = configuration.clone().validate(&previous, "configuration").ok()?;
            Some(catalog::base_pricing(&previous, &valid, &org.currency).subtotal)
        });
        let current = catalog::base_pricing(template, configuration, &org.currency).subtotal;
        Ok((previous_base_subtotal != Some(current)).then_some(CatalogUpdate {
            from_version: session.template_version,
            to_version: template.version,
            previous_base_subtotal,
        }))
    }

    /// A session still `pending` that no task of this process watches (the process that
    /// fired for it restarted) is priced again, so it cannot stay pending forever.
    pub async fn resume_if_orphaned(&self, session: &Session) -> anyhow::Result<()> {
        if session.pricing.status != PricingStatus::Pending || session.submission_id.is_some() {
            return Ok(());
        }
        let running = self.inner.channel(&session.id).state.lock().expect("session state").running;
        if !running && let Some(org) = self.inner.store.org(&session.org_id).await? {
            self.inner.want(&session.id, &session.config_hash, Instant::now() + budget(&org));
        }
        Ok(())
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
        match seq {
            Some(seq) => {
                self.inner.publish(&session.id, seq, &shown).await;
                if session.config_hash == config_hash
                    && session.pricing.status == PricingStatus::Pending
                {
                    crate::telemetry::live_settled("confirmed", since(session.updated_at));
                }
            }
            // Nothing on screen changed, but a process waiting for this answer may be
            // another one.
            None => self.inner.announce(&session.id, 0).await,
        }
        let channel = self.inner.channel(&session.id);
        channel.answered.notify_waiters();
        let mut state = channel.state.lock().expect("session state");
        if state.in_flight.remove(config_hash).is_some() {
            channel.kick.notify_one();
        }
        Ok(seq.is_some())
    }
}

/// Counts a change by the rail that priced it first.
fn observe_change(shown: &SessionPricing) {
    let rail = match (shown.status, shown.source) {
        (PricingStatus::Pending, _) => "webhook",
        (_, PricingSource::Plugin) => "plugin",
        _ => "base",
    };
    crate::telemetry::live_change(rail);
}

/// Time since `at` (epoch ms): a pending price's age, from the write of its change.
pub(super) fn since(at: i64) -> Duration {
    Duration::from_millis(u64::try_from(crate::clock::now_ms().saturating_sub(at)).unwrap_or(0))
}
