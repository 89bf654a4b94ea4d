//! A sent quote's expiry notices: `quote.expiring_soon` once before its `validUntil`, and
//! `quote.expired` once it passes. Each is claimed with a conditional update in the
//! transaction that emits its event, so several replicas may run the check at once.

use super::Result;
use super::events::{self, Expired, ExpiringSoon, QuoteBlocks, QuoteExpired, QuoteExpiringSoon};
use super::quotes::customer_of;
use crate::store::{Quote, Store};

/// Which notice.
#[derive(Debug)]
pub enum Notice {
    /// The quote expires soon.
    ExpiringSoon(ExpiringSoon),
    /// The quote is expired now (its status becomes `expired`).
    Expired(Expired),
}

/// Claims the notice (or the expiry) of `quote` and emits its event in one transaction;
/// false when another pass or replica got there first, or the organisation is gone.
pub async fn announce(
    store: &Store,
    public_url: &str,
    quote: &Quote,
    notice: Notice,
) -> Result<bool> {
    let Some(org) = store.org(&quote.org_id).await? else { return Ok(false) };
    let (customer, locale) = customer_of(store, &org, quote).await?;
    let mut tx = store.begin().await?;
    let claimed = match notice {
        Notice::Expired(_) => tx.expire_quote(&quote.id).await?,
        Notice::ExpiringSoon(_) => tx.claim_expiring_notice(&quote.id).await?,
    };
    if !claimed {
        return Ok(false);
    }
    match notice {
        Notice::ExpiringSoon(expiry) => {
            let blocks = QuoteBlocks::new(public_url, &org, quote, &customer);
            events::emit(&mut tx, &org, locale, &QuoteExpiringSoon { blocks, expiry }).await?;
        }
        Notice::Expired(expiry) => {
            let expired = Quote { status: "expired".into(), ..quote.clone() };
            let blocks = QuoteBlocks::new(public_url, &org, &expired, &customer);
            events::emit(&mut tx, &org, locale, &QuoteExpired { blocks, expiry }).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}
