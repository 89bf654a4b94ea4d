//! A quote on the organisation's side: create it from a submission (`quote.created` in the
//! same transaction), replace or revise its line items, auto-fill a draft from the
//! organisation's price, and its PDF. Sending is [`super::quote_sending`], the customer's
//! side [`super::customer_quotes`].

use serde_json::Value;

use super::events::{self, PricingSubmission, QuoteBlocks, QuoteCreated};
use super::{Error, Result};
use crate::catalog::{Pricing, PricingContext};
use crate::clock::now_ms;
use crate::ids::{new_id, random_alphanumeric};
use crate::orgs::Org;
use crate::pricing::Pricer;
use crate::store::{Quote, Store, Submission};

/// Default validity of a new quote.
pub const DEFAULT_VALIDITY_MS: i64 = 30 * 86_400_000;

/// The submission's side of a quote: its customer block (`null` when the submission is
/// gone) and the customer's locale ([`events::customer_locale`]: the one
/// `submission.created` carried).
pub(crate) async fn customer_of(
    store: &Store,
    org: &Org,
    quote: &Quote,
) -> anyhow::Result<(Value, Option<String>)> {
    let submission = store.submission(&org.id, &quote.submission_id).await?;
    let (customer, recorded) = match submission {
        Some(submission) => (submission.customer, submission.customer_locale),
        None => (Value::Null, None),
    };
    Ok((customer, Some(events::customer_locale(recorded.as_deref(), org))))
}

/// What a new draft quote starts with.
#[derive(Debug, Default)]
pub struct NewQuote {
    /// Exactly these items; `None`: the submission's frozen price.
    pub pricing: Option<Pricing>,
    /// Free text.
    pub reference: Option<String>,
    /// Epoch ms (default: [`DEFAULT_VALIDITY_MS`] from now).
    pub valid_until: Option<i64>,
}

/// Creates a draft quote of `submission` with the organisation's next number, and emits
/// `quote.created` in the same transaction.
pub async fn create(
    store: &Store,
    public_url: &str,
    org: &Org,
    submission: &Submission,
    new: NewQuote,
) -> Result<Quote> {
    let pricing = new.pricing.unwrap_or_else(|| submission.pricing.clone());
    let now = now_ms();
    let year = time::OffsetDateTime::now_utc().year();
    let mut tx = store.begin().await?;
    let quote = Quote {
        id: new_id("quo"),
        org_id: org.id.clone(),
        submission_id: submission.id.clone(),
        number: tx.next_quote_number(&org.id, year).await?,
        status: "draft".into(),
        version: 1,
        currency: org.currency.clone(),
        reference: new.reference,
        valid_until: new.valid_until.unwrap_or(now + DEFAULT_VALIDITY_MS),
        external_ref: None,
        view_token: format!("qv_{}", random_alphanumeric(32)),
        sent_at: None,
        pdf_version: None,
        pricing,
        created_at: now,
        updated_at: now,
    };
    tx.insert_quote(&quote).await?;
    let payload = QuoteCreated(QuoteBlocks::new(public_url, org, &quote, &submission.customer));
    let locale = events::customer_locale(submission.customer_locale.as_deref(), org);
    events::emit(&mut tx, org, Some(locale), &payload).await?;
    tx.commit().await?;
    Ok(quote)
}

/// Replaces the line items: in place on a draft; with `revise` (draft or sent) as the next
/// version. `quote_sent` when a sent quote is changed without `revise`, `quote_closed`
/// once decided or expired.
pub async fn replace_line_items(
    store: &Store,
    quote: &Quote,
    pricing: &Pricing,
    revise: bool,
) -> Result<()> {
    let mut tx = store.begin().await?;
    match (quote.status.as_str(), revise) {
        ("draft", false) => tx.replace_quote_items(quote, pricing).await?,
        ("draft" | "sent", true) => tx.revise_quote(quote, pricing).await?,
        ("sent", false) => {
            return Err(Error::conflict(
                "quote_sent",
                "the quote was sent: pass \"revise\": true for a new version",
            ));
        }
        (status, _) => {
            return Err(Error::conflict("quote_closed", format!("the quote is {status}")));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Fills a draft's line items with the organisation's price for its submission's
/// configuration (`pricing.calculated`, context `autofill`, waited for up to `timeoutMs`;
/// else base pricing). `quote_sent` unless the quote is a draft.
pub async fn autofill(store: &Store, pricer: &Pricer, org: &Org, quote: &Quote) -> Result<()> {
    if quote.status != "draft" {
        return Err(Error::conflict(
            "quote_sent",
            "only a draft is auto-filled: revise the quote instead",
        ));
    }
    let submission = store
        .submission(&org.id, &quote.submission_id)
        .await?
        .ok_or(Error::NotFound("submission"))?;
    let session = store
        .session(&submission.session_id)
        .await?
        .ok_or(Error::NotFound("configuration session"))?;
    let template = store
        .template_version(&org.id, &submission.template_id, submission.template_version)
        .await?
        .ok_or(Error::NotFound("template"))?;
    let context = PricingSubmission {
        id: submission.id,
        customer: submission.customer,
        notes: submission.notes,
        quote_id: Some(quote.id.clone()),
    };
    let request = crate::pricing::session_request(
        org,
        &session,
        &template,
        &submission.configuration,
        PricingContext::Autofill,
    )
    .with_submission(serde_json::to_value(context).map_err(anyhow::Error::from)?);
    let (pricing, _) = pricer.price_for_autofill(org, &session, request).await?;
    let mut tx = store.begin().await?;
    tx.replace_quote_items(quote, &pricing).await?;
    tx.commit().await?;
    Ok(())
}

/// Renders the current version's PDF (view link under `public_url`) and marks it ready
/// (`pdf.status` becomes `ready`).
pub async fn prepare_pdf(store: &Store, org: &Org, quote: &Quote, public_url: &str) -> Result<()> {
    crate::pdf::quote_document(store, org, quote, public_url).await?;
    store.mark_quote_pdf_ready(&org.id, &quote.id).await?;
    Ok(())
}

/// The current version's PDF, once prepared or sent; `pdf_not_ready` before.
pub async fn prepared_pdf(
    store: &Store,
    org: &Org,
    quote: &Quote,
    public_url: &str,
) -> Result<Vec<u8>> {
    if quote.pdf_version != Some(quote.version) {
        return Err(Error::conflict("pdf_not_ready", "prepare or send the quote first"));
    }
    Ok(crate::pdf::quote_document(store, org, quote, public_url).await?)
}
