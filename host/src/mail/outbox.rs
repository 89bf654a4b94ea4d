//! Delivering queued mails: one attempt (the sending request's first, after its commit, or
//! the worker's), and the worker that claims what is due — retries, and mails whose attempt
//! died with its process (their lease runs out).

use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use super::{MailAttachment, Mailer, SendError};
use crate::clock::now_ms;
use crate::outbox::Outcome;
use crate::store::{ClaimedMail, MailResult, Store};

/// Mails one worker round claims (and sends concurrently).
const BATCH: usize = 8;

/// Makes `claimed`'s attempt now and records how it ended. The attempt runs in its own
/// task, so it completes even if the caller (a request whose client left) is dropped.
pub async fn deliver_now(store: Store, mailer: Mailer, claimed: ClaimedMail) {
    let _ = tokio::spawn(async move { attempt(&store, &mailer, claimed).await }).await;
}

/// Claims due mails every `poll` (at once again after a full batch) until `stopping`
/// flips; a claimed batch is finished before it stops.
pub fn start_worker(
    store: Store,
    mailer: Mailer,
    poll: Duration,
    mut stopping: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !*stopping.borrow() {
            let now = now_ms();
            let full = match store.claim_due_mails(now, mailer.lease_end(now), BATCH as i64).await {
                Ok(claimed) => {
                    let count = claimed.len();
                    let attempts = claimed.into_iter().map(|mail| attempt(&store, &mailer, mail));
                    futures_util::future::join_all(attempts).await;
                    count == BATCH
                }
                Err(err) => {
                    tracing::warn!(error = %err, "claiming due mails failed");
                    false
                }
            };
            if !full {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
            }
        }
    })
}

/// One SMTP attempt of a claimed mail, and its outcome recorded under the claim's lease.
async fn attempt(store: &Store, mailer: &Mailer, claimed: ClaimedMail) {
    let sent = match attachment(store, mailer.public_url(), &claimed).await {
        Ok(file) => mailer.send(&claimed.id, &claimed.mail, file).await,
        Err(err) => Err(SendError { permanent: false, message: format!("{err:#}") }),
    };
    let result = outcome(mailer, claimed.attempt, sent);
    match store.record_mail_attempt(&claimed, &result).await {
        Ok(true) => {
            tracing::debug!(mail = %claimed.id, attempt = claimed.attempt, ?result, "mail attempt")
        }
        Ok(false) => {
            tracing::warn!(mail = %claimed.id, "mail attempt outlived its lease; its result is dropped")
        }
        // The lease runs out and the mail is attempted again (at least once).
        Err(err) => {
            tracing::warn!(mail = %claimed.id, error = %err, "recording a mail attempt failed")
        }
    }
}

/// A refusal for good fails the mail; anything else is retried on the schedule, then fails.
fn outcome(mailer: &Mailer, attempt: i64, sent: Result<(), SendError>) -> MailResult {
    let error = match sent {
        Ok(()) => return MailResult::Sent,
        Err(SendError { permanent: true, message }) => {
            return MailResult::Failed { error: message };
        }
        Err(SendError { message, .. }) => message,
    };
    match mailer.retries().after_failure(now_ms(), attempt - 1, None, None) {
        Outcome::Retry { at, .. } => MailResult::Retry { at, error },
        _ => MailResult::Failed { error: format!("{error} (gave up after {attempt} attempts)") },
    }
}

/// The quote's PDF as it stands: the claim made sure it is still the version sent.
async fn attachment(
    store: &Store,
    public_url: &str,
    claimed: &ClaimedMail,
) -> anyhow::Result<Option<MailAttachment>> {
    let Some(quote_id) = &claimed.mail.quote_id else { return Ok(None) };
    let org = store.org(&claimed.org_id).await?.context("the organisation is gone")?;
    let quote = store.quote(&org.id, quote_id).await?.context("the quote is gone")?;
    Ok(Some(MailAttachment {
        filename: format!("{}.pdf", quote.number),
        content_type: "application/pdf",
        bytes: crate::pdf::quote_document(store, &org, &quote, public_url).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::RetrySchedule;

    fn mailer(retries: &[u64]) -> Mailer {
        let schedule = RetrySchedule(retries.iter().map(|&s| Duration::from_secs(s)).collect());
        Mailer::new(
            None,
            "WinFactor <quotes@winfactor.localhost>",
            Duration::from_secs(1),
            schedule,
        )
        .unwrap()
    }

    #[test]
    fn refusals_for_good_fail_at_once_and_the_rest_retry_until_the_schedule_ends() {
        let mailer = mailer(&[60]);
        let temporary = || Err(SendError { permanent: false, message: "451 busy".into() });
        let permanent = Err(SendError { permanent: true, message: "550 no such user".into() });
        assert_eq!(outcome(&mailer, 1, Ok(())), MailResult::Sent);
        assert_eq!(
            outcome(&mailer, 1, permanent),
            MailResult::Failed { error: "550 no such user".into() }
        );
        let MailResult::Retry { at, error } = outcome(&mailer, 1, temporary()) else { panic!() };
        assert!(at > now_ms() + 50_000 && error == "451 busy", "{at}");
        let MailResult::Failed { error } = outcome(&mailer, 2, temporary()) else { panic!() };
        assert_eq!(error, "451 busy (gave up after 2 attempts)");
    }
}
