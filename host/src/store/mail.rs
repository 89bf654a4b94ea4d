//! The mail outbox. A quote mail is written in the transaction that records the quote as
//! sent and goes out over SMTP only after that commit, so no mail ever leaves for a send
//! that did not happen. Each row is a delivery with its own state, leased like a webhook
//! delivery: while an attempt runs, `next_attempt_at` is the end of its lease and
//! `attempts` (bumped by every claim) fences a late result from an attempt whose lease
//! another process has since taken over.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, Tx};
use crate::clock::now_ms;

/// A mail's content.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    /// Addresses.
    pub recipients: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The quote it carries, if any.
    pub quote_id: Option<String>,
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for its next SMTP attempt, or in one.
    Pending,
    /// The SMTP server took it.
    Sent,
    /// The server refused it for good, or every retry failed.
    Failed,
    /// Its quote was revised, decided or expired before the mail could leave.
    Cancelled,
    /// No SMTP server is configured: the outbox is its only delivery.
    Recorded,
}

impl MailStatus {
    /// The stored and listed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Recorded => "recorded",
        }
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(match text {
            "pending" => Self::Pending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "recorded" => Self::Recorded,
            other => anyhow::bail!("unknown mail status `{other}`"),
        })
    }
}

/// A mail as the outbox lists it.
#[derive(Debug, Clone)]
pub struct MailRecord {
    /// `mail_…`
    pub id: String,
    /// The content.
    pub mail: OutboxMail,
    /// Where it stands.
    pub status: MailStatus,
    /// SMTP attempts so far.
    pub attempts: i64,
    /// The last failed attempt's error (or why it was cancelled).
    pub last_error: Option<String>,
    /// When the server took it (epoch ms).
    pub sent_at: Option<i64>,
    /// When it was queued (epoch ms).
    pub created_at: i64,
}

/// A pending mail held for one SMTP attempt.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    /// `mail_…`
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// The content.
    pub mail: OutboxMail,
    /// Which attempt this is (1-based): the lease's fencing token.
    pub attempt: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailResult {
    /// The server took it.
    Sent,
    /// Try again at this time (epoch ms).
    Retry {
        /// When.
        at: i64,
        /// What went wrong.
        error: String,
    },
    /// Give up.
    Failed {
        /// What went wrong.
        error: String,
    },
}

const LISTED: &str =
    "id, recipients, subject, body, quote_id, status, attempts, last_error, sent_at, created_at";

fn content(row: &AnyRow) -> anyhow::Result<OutboxMail> {
    let recipients: String = row.try_get("recipients")?;
    Ok(OutboxMail {
        recipients: serde_json::from_str(&recipients)?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        quote_id: row.try_get("quote_id")?,
    })
}

impl Tx {
    /// Queues a mail of `quote_version` of its quote in the transaction that records the
    /// send. With `lease_until` (an SMTP server is configured) it is `pending` and already
    /// claimed for the caller's first attempt, to make after commit; without, `recorded`.
    pub async fn queue_mail(
        &mut self,
        org_id: &str,
        mail: &OutboxMail,
        quote_version: i64,
        lease_until: Option<i64>,
    ) -> anyhow::Result<Option<ClaimedMail>> {
        let id = crate::ids::new_id("mail");
        let (status, attempts) = match lease_until {
            Some(_) => (MailStatus::Pending, 1),
            None => (MailStatus::Recorded, 0),
        };
        sqlx::query(
            "INSERT INTO mail_outbox (id, org_id, recipients, subject, body, quote_id, quote_version, \
             status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(serde_json::to_string(&mail.recipients)?)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(&mail.quote_id)
        .bind(quote_version)
        .bind(status.as_str())
        .bind(attempts)
        .bind(lease_until)
        .bind(now_ms())
        .execute(self.conn())
        .await?;
        Ok(lease_until.map(|_| ClaimedMail {
            id,
            org_id: org_id.to_owned(),
            mail: mail.clone(),
            attempt: attempts,
        }))
    }
}

impl Store {
    /// Claims up to `limit` pending mails due at `now`, each leased until `lease_until`.
    /// A mail whose quote has moved on since it was sent (revised, decided, expired) is
    /// cancelled instead: the customer would get a quote that no longer stands.
    pub async fn claim_due_mails(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<ClaimedMail>> {
        let rows = sqlx::query(
            "SELECT m.id, m.org_id, m.recipients, m.subject, m.body, m.quote_id, m.attempts, \
             m.quote_version, q.version AS quote_current, q.status AS quote_status \
             FROM mail_outbox m LEFT JOIN quotes q ON q.id = m.quote_id \
             WHERE m.status = 'pending' AND m.next_attempt_at <= $1 \
             ORDER BY m.next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let attempts: i64 = row.try_get("attempts")?;
            let quote_id: Option<String> = row.try_get("quote_id")?;
            let sent_version: Option<i64> = row.try_get("quote_version")?;
            let current: Option<i64> = row.try_get("quote_current")?;
            let status: Option<String> = row.try_get("quote_status")?;
            let stands = current == sent_version && status.as_deref() == Some("sent");
            if quote_id.is_some() && !stands {
                self.cancel_mail(&id, attempts, "the quote changed before the mail left").await?;
                continue;
            }
            let taken = sqlx::query(
                "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1 \
                 WHERE id = $2 AND status = 'pending' AND attempts = $3 AND next_attempt_at <= $4",
            )
            .bind(lease_until)
            .bind(&id)
            .bind(attempts)
            .bind(now)
            .execute(&self.writer)
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(ClaimedMail {
                    id,
                    org_id: row.try_get("org_id")?,
                    mail: content(row)?,
                    attempt: attempts + 1,
                });
            }
        }
        Ok(claimed)
    }

    async fn cancel_mail(&self, id: &str, attempts: i64, reason: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE mail_outbox SET status = 'cancelled', next_attempt_at = NULL, last_error = $1 \
             WHERE id = $2 AND status = 'pending' AND attempts = $3",
        )
        .bind(reason)
        .bind(id)
        .bind(attempts)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records how `claimed`'s attempt ended; false (and nothing written) when its lease was
    /// taken over meanwhile.
    pub async fn record_mail_attempt(
        &self,
        claimed: &ClaimedMail,
        result: &MailResult,
    ) -> anyhow::Result<bool> {
        let now = now_ms();
        let (status, sent_at, error, next) = match result {
            MailResult::Sent => (MailStatus::Sent, Some(now), None, None),
            MailResult::Retry { at, error } => {
                (MailStatus::Pending, None, Some(error.as_str()), Some(*at))
            }
            MailResult::Failed { error } => (MailStatus::Failed, None, Some(error.as_str()), None),
        };
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = $1, sent_at = $2, last_error = $3, next_attempt_at = $4 \
             WHERE id = $5 AND status = 'pending' AND attempts = $6",
        )
        .bind(status.as_str())
        .bind(sent_at)
        .bind(error)
        .bind(next)
        .bind(&claimed.id)
        .bind(claimed.attempt)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the mails queued before `before` (epoch ms) that are no longer pending.
    pub async fn prune_mail(&self, before: i64) -> anyhow::Result<u64> {
        let done =
            sqlx::query("DELETE FROM mail_outbox WHERE status <> 'pending' AND created_at < $1")
                .bind(before)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected())
    }

    /// The org's mails, newest first.
    pub async fn list_mail(&self, org_id: &str, limit: i64) -> anyhow::Result<Vec<MailRecord>> {
        let sql = format!(
            "SELECT {LISTED} FROM mail_outbox WHERE org_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(org_id).bind(limit).fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(MailRecord {
                    id: row.try_get("id")?,
                    mail: content(row)?,
                    status: MailStatus::parse(&status)?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    sent_at: row.try_get("sent_at")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
