//! Sending a quote: it becomes `sent`, `quote.sent` is emitted and the mail to the customer
//! is queued, all in one transaction; with SMTP the mail (PDF attached) leaves after the
//! commit, first from the caller, then from the mail worker until the server takes it.

use super::events::{self, QuoteBlocks, QuoteSent};
use super::quotes::customer_of;
use super::{Error, Result};
use crate::clock::now_ms;
use crate::mail::Mailer;
use crate::orgs::Org;
use crate::store::{OutboxMail, Quote, Store};

/// Sends `quote` to `recipients` (validated addresses). `quote_closed` unless it is a draft
/// or sent; `mail_delivery_failed` when the mail server cannot be reached, before anything
/// changed; `quote_changed` when it was revised or decided meanwhile.
pub async fn send(
    store: &Store,
    mailer: &Mailer,
    public_url: &str,
    org: &Org,
    quote: Quote,
    recipients: Vec<String>,
) -> Result<()> {
    if !matches!(quote.status.as_str(), "draft" | "sent") {
        return Err(Error::conflict("quote_closed", format!("the quote is {}", quote.status)));
    }
    let (customer, locale) = customer_of(store, org, &quote).await?;
    let view_url = format!("{public_url}/public/v1/quotes/{}", quote.view_token);
    let mail = OutboxMail {
        recipients,
        subject: format!("Your quote {} from {}", quote.number, org.name),
        body: format!(
            "Hello,\n\nyour quote {} (version {}) is ready: {view_url}\n\nKind regards,\n{}",
            quote.number, quote.version, org.name
        ),
        quote_id: Some(quote.id.clone()),
    };
    // A server that is down fails the request while nothing has changed; the mail itself
    // leaves only once the send is committed, so no customer gets a quote still a draft.
    mailer.check_server().await.map_err(Error::MailFailed)?;
    let mut tx = store.begin().await?;
    if !tx.mark_quote_sent(&quote.id, quote.version).await? {
        return Err(Error::conflict("quote_changed", "the quote changed meanwhile: read it again"));
    }
    // With SMTP the mail is queued already claimed for this call's attempt below.
    let lease_until = mailer.smtp().then(|| mailer.lease_end(now_ms()));
    let queued = tx.queue_mail(&org.id, &mail, quote.version, lease_until).await?;
    let sent = Quote { status: "sent".into(), ..quote };
    let payload = QuoteSent::new(QuoteBlocks::new(public_url, org, &sent, &customer), view_url);
    events::emit(&mut tx, org, locale, &payload).await?;
    tx.commit().await?;
    if let Some(claimed) = queued {
        crate::mail::outbox::deliver_now(store.clone(), mailer.clone(), claimed).await;
    }
    Ok(())
}
