//! The organisation's price, asked for: the one fallback chain every context follows —
//! the active Wasm plugin, in-process; else the organisation's system through
//! `pricing.calculated` (the webhook rail), within `timeoutMs`; else base pricing. The live
//! loop asks without waiting (the answer comes later through the callback and is pushed);
//! submission and auto-fill wait for it, all through [`Pricer::ask_and_wait`].

use std::time::Duration;

use tokio::time::Instant;

use super::Session;
use super::{CALLBACK_TOKEN_TTL_MS, Pricer};
use crate::catalog::{
    Callback, Pricing, PricingContext, PricingRequest, PricingSource, PricingStatus, SessionPricing,
};
use crate::clock::now_ms;
use crate::orgs::Org;
use crate::outbox::{self, EventType, NewEvent};
use crate::plugins::PricingInput;

/// What to show first for a configuration of the live loop.
pub(super) struct FirstPricing {
    /// What the screen shows.
    pub(super) shown: SessionPricing,
    /// Whether the webhook rail wants `pricing.calculated`.
    pub(super) wanted: bool,
    /// The plugin's breakdown, to store with the change.
    pub(super) plugin_answer: Option<Pricing>,
}

/// The in-process rail's verdict.
enum PluginAnswer {
    /// The org has no active plugin.
    NoPlugin,
    /// A valid breakdown.
    Priced(Pricing),
    /// The run failed (recorded with its reason).
    Failed,
}

impl Pricer {
    /// Whether `request` awaits an external price: `pricing.calculated` for it would reach
    /// an enabled, subscribed endpoint whose filters match it.
    pub async fn has_rail(&self, org: &Org, request: &PricingRequest) -> anyhow::Result<bool> {
        if !org.features().api_access {
            return Ok(false);
        }
        outbox::would_deliver(&self.inner.store, org, EventType::PricingCalculated, request).await
    }

    /// What a live configuration shows first: a stored answer of the organisation's system
    /// for the same configHash (when `answered_externally`); else the active plugin's
    /// answer (`confirmed/plugin`, to be stored with the change); else base pricing —
    /// `pending` when the webhook rail will answer, `fallback` when the plugin failed and no
    /// rail will. [`FirstPricing::wanted`] says whether the webhook rail wants
    /// `pricing.calculated` (it fires beside a plugin, too).
    pub(super) async fn first_pricing(
        &self,
        org: &Org,
        answered_externally: bool,
        request: PricingRequest,
    ) -> anyhow::Result<FirstPricing> {
        let hash = request.config_hash.clone();
        if answered_externally {
            // A plugin's stored answer may come from a version since replaced: it is priced
            // afresh below (microseconds); the organisation's own answers stand.
            let answered = self.inner.store.adjustments(&request.session.id, Some(&hash)).await?;
            if let Some(latest) = answered.into_iter().find(|a| a.source != PricingSource::Plugin) {
                let shown = SessionPricing::new(
                    &hash,
                    PricingStatus::Confirmed,
                    latest.source,
                    latest.pricing,
                );
                return Ok(FirstPricing { shown, wanted: false, plugin_answer: None });
            }
        }
        let rail = self.has_rail(org, &request).await?;
        let base = request.base_pricing.clone();
        let (status, source, pricing, plugin_answer) = match self.plugin_price(org, request).await?
        {
            PluginAnswer::Priced(answer) => {
                (PricingStatus::Confirmed, PricingSource::Plugin, answer.clone(), Some(answer))
            }
            _ if rail => (PricingStatus::Pending, PricingSource::Base, base, None),
            PluginAnswer::Failed => (PricingStatus::Fallback, PricingSource::Base, base, None),
            PluginAnswer::NoPlugin => (PricingStatus::Confirmed, PricingSource::Base, base, None),
        };
        Ok(FirstPricing {
            shown: SessionPricing::new(&hash, status, source, pricing),
            wanted: rail,
            plugin_answer,
        })
    }

    /// The price to freeze on submission: a stored answer for the final configuration, else
    /// the org's one authoritative chance (context `submission`, waited for up to
    /// `timeoutMs`), else base pricing.
    pub async fn price_for_submission(
        &self,
        org: &Org,
        session: &Session,
        request: PricingRequest,
    ) -> anyhow::Result<(Pricing, PricingSource)> {
        let answered =
            self.inner.store.adjustments(&session.id, Some(&request.config_hash)).await?;
        if let Some(answer) = answered.into_iter().next() {
            return Ok((answer.pricing, answer.source));
        }
        self.ask_and_wait(org, session, request).await
    }

    /// Fresh prices for a submitted configuration (an organisation user's auto-fill):
    /// always asks (context `autofill`), waits up to `timeoutMs`; else base pricing.
    pub async fn price_for_autofill(
        &self,
        org: &Org,
        session: &Session,
        request: PricingRequest,
    ) -> anyhow::Result<(Pricing, PricingSource)> {
        self.ask_and_wait(org, session, request).await
    }

    /// The chain, waited for: the plugin; else `pricing.calculated` and the first answer
    /// for its configuration stored after it fired, within `timeoutMs`; else base pricing.
    /// Every answer is stored for its configuration like any other.
    async fn ask_and_wait(
        &self,
        org: &Org,
        session: &Session,
        request: PricingRequest,
    ) -> anyhow::Result<(Pricing, PricingSource)> {
        let store = &self.inner.store;
        let (hash, context, base) =
            (request.config_hash.clone(), request.context, request.base_pricing.clone());
        if let PluginAnswer::Priced(pricing) = self.plugin_price(org, request.clone()).await? {
            store
                .insert_adjustment(
                    session,
                    &hash,
                    context.as_str(),
                    PricingSource::Plugin,
                    &pricing,
                )
                .await?;
            return Ok((pricing, PricingSource::Plugin));
        }
        if !self.has_rail(org, &request).await? {
            return Ok((base, PricingSource::Base));
        }
        let asked_at = now_ms();
        let channel = self.inner.channel(&session.id);
        self.fire(org, session, request, budget(org)).await?; // not live: never refused
        let deadline = Instant::now() + budget(org);
        loop {
            let answered = channel.answered.notified();
            let answers = store.adjustments(&session.id, Some(&hash)).await?;
            let fresh = answers
                .into_iter()
                .find(|a| a.created_at >= asked_at && a.source != PricingSource::Plugin);
            if let Some(answer) = fresh {
                return Ok((answer.pricing, answer.source));
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return Ok((base, PricingSource::Base));
            }
        }
    }

    /// Runs the org's active plugin on `request`, if it has one, within its budget, and
    /// records the run.
    async fn plugin_price(
        &self,
        org: &Org,
        request: PricingRequest,
    ) -> anyhow::Result<PluginAnswer> {
        let Some(version) = self.inner.store.active_plugin(&org.id).await? else {
            return Ok(PluginAnswer::NoPlugin);
        };
        let (session_id, context) = (request.session.id.clone(), request.context);
        let plugins = &self.inner.plugins;
        let input = PricingInput::new(org, request);
        let evaluation = plugins.evaluate(&org.id, &version, input, budget(org)).await;
        plugins.record(&org.id, &version, Some(&session_id), context.as_str(), &evaluation);
        Ok(match evaluation.report.pricing {
            Some(pricing) => PluginAnswer::Priced(pricing),
            None => PluginAnswer::Failed,
        })
    }

    /// Fires `pricing.calculated` for `request` of a session, with a fresh single-use
    /// callback token bound to its configHash. `callback.timeoutMs` is the organisation's
    /// budget; the delivery expires with what is left of it, `left` (the live loop's
    /// debounce has spent some). A live request is first claimed for its configuration
    /// until its deadline ([`Tx::claim_live_request`](crate::store::Tx)): false, and
    /// nothing fired, when another request for it is out already (from any replica).
    pub(super) async fn fire(
        &self,
        org: &Org,
        session: &Session,
        mut request: PricingRequest,
        left: Duration,
    ) -> anyhow::Result<bool> {
        let token = format!("cbt_{}", crate::ids::random_alphanumeric(40));
        let now = now_ms();
        let context: PricingContext = request.context;
        request.callback = Some(Callback {
            url: format!(
                "{}/api/v1/configuration-sessions/{token}/adjustments",
                self.inner.public_url
            ),
            method: "PUT".to_owned(),
            config_hash: request.config_hash.clone(),
            timeout_ms: org.pricing_timeout_ms,
        });
        let hash = request.config_hash.clone();
        let expires_at = now + i64::try_from(left.as_millis()).unwrap_or(i64::MAX);
        let event = NewEvent {
            event_type: EventType::PricingCalculated,
            customer_locale: None,
            data: serde_json::to_value(&request)?,
            expires_at: Some(expires_at),
        };
        let mut tx = self.inner.store.begin().await?;
        if context == PricingContext::Live
            && !tx.claim_live_request(&session.id, &hash, expires_at).await?
        {
            return Ok(false);
        }
        tx.insert_callback_token(
            &token,
            session,
            &hash,
            context.as_str(),
            now + CALLBACK_TOKEN_TTL_MS,
        )
        .await?;
        outbox::emit(&mut tx, org, event).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The org's callback budget (`timeoutMs`).
pub(super) fn budget(org: &Org) -> Duration {
    Duration::from_millis(u64::try_from(org.pricing_timeout_ms).unwrap_or(0))
}
