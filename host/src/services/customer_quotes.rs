//! The customer's side of a quote, addressed by its view token: the first view
//! (`quote.viewed`), the decision — accept (`quote.accepted`) or reject (`quote.rejected`),
//! once, while the quote is sent and valid — and the PDF once sent.

use serde_json::Value;

use super::events::{
    self, Acceptance, QuoteAccepted, QuoteBlocks, QuoteRejected, QuoteViewed, Rejection, View,
    Visitor,
};
use super::quotes::customer_of;
use super::{Error, Result};
use crate::clock::now_ms;
use crate::orgs::Org;
use crate::store::{Quote, Store};

/// A quote with what its customer pages and events show.
#[derive(Debug)]
pub struct CustomerQuote {
    /// The quote.
    pub quote: Quote,
    /// Its organisation.
    pub org: Org,
    /// The submission's customer block (`null` when the submission is gone).
    pub customer: Value,
    /// The customer's locale, if known.
    pub locale: Option<String>,
}

/// The quote behind a view token.
pub async fn by_view_token(store: &Store, token: &str) -> Result<CustomerQuote> {
    let quote = store.quote_by_view_token(token).await?.ok_or(Error::NotFound("quote"))?;
    let org = store.org(&quote.org_id).await?;
    let org = org.filter(Org::is_active).ok_or(Error::NotFound("quote"))?;
    let (customer, locale) = customer_of(store, &org, &quote).await?;
    Ok(CustomerQuote { quote, org, customer, locale })
}

/// Records a view; the first one emits `quote.viewed`.
pub async fn record_view(
    store: &Store,
    public_url: &str,
    shown: &CustomerQuote,
    visitor: Visitor,
) -> Result<()> {
    let mut tx = store.begin().await?;
    if tx.mark_quote_viewed(&shown.quote.id).await? {
        let payload = QuoteViewed {
            blocks: QuoteBlocks::new(public_url, &shown.org, &shown.quote, &shown.customer),
            view: View { viewed_at: now_ms(), visitor },
        };
        events::emit(&mut tx, &shown.org, shown.locale.clone(), &payload).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The customer's decision.
#[derive(Debug)]
pub enum Decision {
    /// Accept, signed with a name.
    Accept(Acceptance),
    /// Reject, with an optional reason.
    Reject(Rejection),
}

/// Decides the quote behind `token` (once, while sent and valid; `quote_not_open` else)
/// and emits `quote.accepted` or `quote.rejected`. Returns the decided quote.
pub async fn decide(
    store: &Store,
    public_url: &str,
    token: &str,
    decision: Decision,
) -> Result<Quote> {
    let CustomerQuote { quote, org, customer, locale } = by_view_token(store, token).await?;
    let (status, stored) = match &decision {
        Decision::Accept(acceptance) => ("accepted", serde_json::to_value(acceptance)),
        Decision::Reject(rejection) => ("rejected", serde_json::to_value(rejection)),
    };
    let stored = stored.map_err(anyhow::Error::from)?;
    let mut tx = store.begin().await?;
    if !tx.decide_quote(&quote.id, status, &stored).await? {
        let why = if quote.status == "sent" { "expired".to_owned() } else { quote.status.clone() };
        return Err(Error::conflict(
            "quote_not_open",
            format!("this quote can no longer be decided ({why})"),
        ));
    }
    let decided = Quote { status: status.to_owned(), ..quote };
    let blocks = QuoteBlocks::new(public_url, &org, &decided, &customer);
    match decision {
        Decision::Accept(acceptance) => {
            let payload = QuoteAccepted { blocks, acceptance };
            events::emit(&mut tx, &org, locale, &payload).await?;
        }
        Decision::Reject(rejection) => {
            let payload = QuoteRejected { blocks, rejection };
            events::emit(&mut tx, &org, locale, &payload).await?;
        }
    }
    tx.commit().await?;
    Ok(decided)
}

/// The quote's PDF for its customer, once sent (`not found` before); its view link is
/// under `public_url`.
pub async fn pdf(store: &Store, shown: &CustomerQuote, public_url: &str) -> Result<Vec<u8>> {
    if shown.quote.sent_at.is_none() {
        return Err(Error::NotFound("quote"));
    }
    Ok(crate::pdf::quote_document(store, &shown.org, &shown.quote, public_url).await?)
}
