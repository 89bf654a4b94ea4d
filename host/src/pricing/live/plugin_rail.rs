//! The in-process rail inside the live loop: what a configuration shows first when the
//! organisation has an active Wasm plugin (priced before the change is stored), and the run
//! of the plugin itself (recorded in the background).

use std::time::Duration;

use super::{Pricer, budget};
use crate::catalog::{self, Configuration, Pricing, Template};
use crate::orgs::Org;
use crate::plugins::{PricingInput, input::SessionRef};
use crate::pricing::{PricingContext, PricingSource, PricingStatus, SessionPricing};

impl Pricer {
    /// What to show first for `configuration` of a session (or a new one): a stored answer
    /// of the organisation's system for the same configHash; else the active plugin's
    /// answer (`confirmed/plugin`, to be stored with the change); else base pricing —
    /// `pending` when the webhook rail will answer, `fallback` when the plugin failed and no
    /// rail will. [`FirstPricing::wanted`] says whether the webhook rail wants
    /// `pricing.calculated` (it fires beside a plugin, too).
    pub(super) async fn first_pricing(
        &self,
        org: &Org,
        session: &SessionRef,
        answered_externally: bool,
        template: &Template,
        configuration: &Configuration,
        config_hash: &str,
    ) -> anyhow::Result<FirstPricing> {
        if answered_externally {
            // A plugin's stored answer may come from a version since replaced: it is priced
            // afresh below (microseconds); the organisation's own answers stand.
            let answered = self.inner.store.adjustments(&session.id, Some(config_hash)).await?;
            let external = answered.into_iter().find(|a| a.source != PricingSource::Plugin);
            if let Some(latest) = external {
                let pricing = SessionPricing::new(
                    config_hash,
                    PricingStatus::Confirmed,
                    latest.source,
                    latest.pricing,
                );
                return Ok(FirstPricing { shown: pricing, wanted: false, plugin_answer: None });
            }
        }
        let base = catalog::base_pricing(template, configuration, &org.currency);
        let rail = self.has_rail(org).await?;
        let input = PricingInput::for_session(
            org,
            session.clone(),
            template,
            configuration,
            config_hash,
            &base,
            PricingContext::Live,
            None,
        );
        let (status, source, pricing, plugin_answer) = match self
            .plugin_price(org, input, budget(org))
            .await?
        {
            PluginAnswer::Priced(answer) => {
                (PricingStatus::Confirmed, PricingSource::Plugin, answer.clone(), Some(answer))
            }
            _ if rail => (PricingStatus::Pending, PricingSource::Base, base, None),
            PluginAnswer::Failed => (PricingStatus::Fallback, PricingSource::Base, base, None),
            PluginAnswer::NoPlugin => (PricingStatus::Confirmed, PricingSource::Base, base, None),
        };
        Ok(FirstPricing {
            shown: SessionPricing::new(config_hash, status, source, pricing),
            wanted: rail,
            plugin_answer,
        })
    }

    /// Runs the org's active plugin, if any, and records the run.
    pub(super) async fn plugin_price(
        &self,
        org: &Org,
        input: PricingInput,
        budget: Duration,
    ) -> anyhow::Result<PluginAnswer> {
        let Some(version) = self.inner.store.active_plugin(&org.id).await? else {
            return Ok(PluginAnswer::NoPlugin);
        };
        let session_id = input.session.id.clone();
        let context = input.context;
        let plugins = &self.inner.plugins;
        let evaluation = plugins.evaluate(&org.id, &version, input, budget).await;
        plugins.record(&org.id, &version, Some(&session_id), context.as_str(), &evaluation);
        Ok(match evaluation.report.pricing {
            Some(pricing) => PluginAnswer::Priced(pricing),
            None => PluginAnswer::Failed,
        })
    }
}

/// What [`Pricer::first_pricing`] decided.
pub(super) struct FirstPricing {
    /// What the screen shows.
    pub(super) shown: SessionPricing,
    /// Whether the webhook rail wants `pricing.calculated`.
    pub(super) wanted: bool,
    /// The plugin's breakdown, to store with the change.
    pub(super) plugin_answer: Option<Pricing>,
}

/// The in-process rail's verdict.
pub(super) enum PluginAnswer {
    /// The org has no active plugin.
    NoPlugin,
    /// A valid breakdown.
    Priced(Pricing),
    /// The run failed (recorded with its reason).
    Failed,
}
