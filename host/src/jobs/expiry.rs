//! Quote expiry: `quote.expiring_soon` once, three days before a sent quote's `validUntil`
//! (`data.expiry{validUntil, daysRemaining}`), and `quote.expired` once when it passes.

use serde_json::json;

use crate::api::quotes::event_data;
use crate::clock::now_ms;
use crate::outbox::{self, EventType, NewEvent};
use crate::store::{Quote, Store};

/// How far ahead the expiring-soon notice looks.
pub const NOTICE_MS: i64 = 3 * DAY_MS;
const DAY_MS: i64 = 86_400_000;

/// One pass: emits the due notices and expiries; returns how many of each.
pub async fn run_once(store: &Store, public_url: &str) -> anyhow::Result<(usize, usize)> {
    let now = now_ms();
    let (expiring, expired) = store.quotes_due_for_expiry(now, now + NOTICE_MS).await?;
    let mut counts = (0, 0);
    for quote in expiring {
        let days_remaining = (quote.valid_until - now + DAY_MS - 1) / DAY_MS;
        let expiry = json!({ "validUntil": quote.valid_until, "daysRemaining": days_remaining });
        if notify(store, public_url, &quote, EventType::QuoteExpiringSoon, expiry).await? {
            counts.0 += 1;
        }
    }
    for quote in expired {
        let expiry = json!({ "validUntil": quote.valid_until, "expiredAt": now });
        if notify(store, public_url, &quote, EventType::QuoteExpired, expiry).await? {
            counts.1 += 1;
        }
    }
    Ok(counts)
}

/// Claims the notice (or the expiry) and emits its event in one transaction; false when
/// another pass or replica got there first.
async fn notify(
    store: &Store,
    public_url: &str,
    quote: &Quote,
    event_type: EventType,
    expiry: serde_json::Value,
) -> anyhow::Result<bool> {
    let Some(org) = store.org(&quote.org_id).await? else { return Ok(false) };
    let submission = store.submission(&org.id, &quote.submission_id).await?;
    let mut tx = store.begin().await?;
    let claimed = match event_type {
        EventType::QuoteExpired => tx.expire_quote(&quote.id).await?,
        _ => tx.claim_expiring_notice(&quote.id).await?,
    };
    if !claimed {
        return Ok(false);
    }
    let customer = submission.as_ref().map(|s| s.customer.clone()).unwrap_or_default();
    let mut shown = quote.clone();
    if event_type == EventType::QuoteExpired {
        shown.status = "expired".into();
    }
    let mut data = event_data(public_url, &org, &shown, &customer);
    data["expiry"] = expiry;
    let locale = submission.and_then(|s| s.customer_locale);
    outbox::emit(
        &mut tx,
        &org,
        NewEvent { event_type, customer_locale: locale, data, expires_at: None },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
