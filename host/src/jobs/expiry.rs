//! Quote expiry: `quote.expiring_soon` once, three days before a sent quote's `validUntil`
//! (`data.expiry{validUntil, daysRemaining}`), and `quote.expired` once when it passes.

use crate::clock::now_ms;
use crate::services::events::{Expired, ExpiringSoon};
use crate::services::quote_expiry::{Notice, announce};
use crate::store::Store;

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
        let notice =
            Notice::ExpiringSoon(ExpiringSoon { valid_until: quote.valid_until, days_remaining });
        if announce(store, public_url, &quote, notice).await? {
            counts.0 += 1;
        }
    }
    for quote in expired {
        let notice = Notice::Expired(Expired { valid_until: quote.valid_until, expired_at: now });
        if announce(store, public_url, &quote, notice).await? {
            counts.1 += 1;
        }
    }
    Ok(counts)
}
