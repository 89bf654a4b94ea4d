//! The org's price at the two moments that are not a live change: submission (the price
//! frozen on it) and an organisation user's auto-fill. Both try the active plugin first,
//! then the webhook rail within `timeoutMs`, then base pricing.

use serde_json::Value;
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::plugin_rail::PluginAnswer;
use super::{Pricer, budget};
use crate::catalog::{self, Configuration, Pricing, Template};
use crate::clock::now_ms;
use crate::orgs::Org;
use crate::plugins::PricingInput;
use crate::pricing::{PricingContext, PricingSource, PricingStatus};
use crate::store::Session;

impl Pricer {
    /// The price to freeze on submission: a stored answer for the final configuration, else
    /// the org's one authoritative chance (context `submission`, waited for up to
    /// `timeoutMs`), else base pricing.
    pub async fn price_for_submission(
        &self,
        org: &Org,
        session: &Session,
        template: &Template,
        submission: Value,
    ) -> anyhow::Result<(Pricing, PricingSource)> {
        let store = &self.inner.store;
        let hash = &session.config_hash;
        let stored = |answers: Vec<crate::store::Adjustment>| {
            answers.into_iter().next().map(|a| (a.pricing, a.source))
        };
        if let Some(answer) = stored(store.adjustments(&session.id, Some(hash)).await?) {
            return Ok(answer);
        }
        let base = catalog::base_pricing(template, &session.configuration, &org.currency);
        let context = PricingContext::Submission;
        let input = PricingInput::for_stored_session(
            org,
            session,
            template,
            &session.configuration,
            &base,
            context,
        )
        .with_submission(submission.clone());
        if let PluginAnswer::Priced(pricing) = self.plugin_price(org, input, budget(org)).await? {
            store
                .insert_adjustment(session, hash, context.as_str(), PricingSource::Plugin, &pricing)
                .await?;
            return Ok((pricing, PricingSource::Plugin));
        }
        if !self.has_rail(org).await? {
            return Ok((base, PricingSource::Base));
        }
        let mut events = self.subscribe(&session.id);
        self.fire(
            org,
            session,
            template,
            &session.configuration,
            &base,
            PricingContext::Submission,
            Some(submission),
        )
        .await?;
        let answered = async {
            loop {
                match events.recv().await {
                    Ok(event)
                        if &event.pricing.config_hash == hash
                            && event.pricing.status == PricingStatus::Confirmed =>
                    {
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => {}
                }
            }
        };
        let _ = tokio::time::timeout(budget(org), answered).await;
        Ok(stored(store.adjustments(&session.id, Some(hash)).await?)
            .unwrap_or((base, PricingSource::Base)))
    }

    /// Fresh prices for a submitted configuration (an organisation user's auto-fill):
    /// always fires `pricing.calculated` with context `autofill` and waits up to
    /// `timeoutMs` for an answer stored after that; else base pricing.
    pub async fn price_for_autofill(
        &self,
        org: &Org,
        session: &Session,
        template: &Template,
        configuration: &Configuration,
        submission: Value,
    ) -> anyhow::Result<(Pricing, PricingSource)> {
        let store = &self.inner.store;
        let hash = catalog::config_hash(configuration);
        let base = catalog::base_pricing(template, configuration, &org.currency);
        let context = PricingContext::Autofill;
        let input =
            PricingInput::for_stored_session(org, session, template, configuration, &base, context)
                .with_submission(submission.clone());
        if let PluginAnswer::Priced(pricing) = self.plugin_price(org, input, budget(org)).await? {
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
        if !self.has_rail(org).await? {
            return Ok((base, PricingSource::Base));
        }
        let asked_at = now_ms();
        let channel = self.inner.channel(&session.id);
        self.fire(
            org,
            session,
            template,
            configuration,
            &base,
            PricingContext::Autofill,
            Some(submission),
        )
        .await?;
        let fresh = || async {
            let answers = store.adjustments(&session.id, Some(&hash)).await?;
            anyhow::Ok(
                answers.into_iter().find(|a| a.created_at >= asked_at && a.context == "autofill"),
            )
        };
        let deadline = Instant::now() + budget(org);
        loop {
            let answered = channel.answered.notified();
            if let Some(answer) = fresh().await? {
                return Ok((answer.pricing, answer.source));
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return Ok((base, PricingSource::Base));
            }
        }
    }
}
