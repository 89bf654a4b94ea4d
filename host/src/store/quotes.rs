//! Quotes: numbered per organisation and year, versioned line items.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, Tx};
use crate::catalog::Pricing;
use crate::clock::now_ms;

/// A quote's current state.
#[derive(Debug, Clone)]
pub struct Quote {
    /// `quo_…`
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// The submission it quotes.
    pub submission_id: String,
    /// `Q-2026-0042`
    pub number: String,
    /// `draft`, `sent`, `accepted`, `rejected`, `expired`.
    pub status: String,
    /// Current version (1-based).
    pub version: i64,
    /// ISO 4217.
    pub currency: String,
    /// Free text (e.g. an ERP order number).
    pub reference: Option<String>,
    /// Epoch ms.
    pub valid_until: i64,
    /// The integrator's reference.
    pub external_ref: Option<String>,
    /// Unguessable token of the customer's quote page.
    pub view_token: String,
    /// When it was last sent (epoch ms).
    pub sent_at: Option<i64>,
    /// The version whose PDF was prepared (sent or `/prepare`).
    pub pdf_version: Option<i64>,
    /// The current version's breakdown.
    pub pricing: Pricing,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "q.id, q.org_id, q.submission_id, q.number, q.status, q.version, q.currency, \
    q.reference, q.valid_until, q.external_ref, q.view_token, q.sent_at, q.pdf_version, q.created_at, q.updated_at, \
    v.pricing";
const FROM: &str = "quotes q JOIN quote_versions v ON v.quote_id = q.id AND v.version = q.version";

fn quote_from_row(row: &AnyRow) -> anyhow::Result<Quote> {
    let pricing: String = row.try_get("pricing")?;
    Ok(Quote {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        submission_id: row.try_get("submission_id")?,
        number: row.try_get("number")?,
        status: row.try_get("status")?,
        version: row.try_get("version")?,
        currency: row.try_get("currency")?,
        reference: row.try_get("reference")?,
        valid_until: row.try_get("valid_until")?,
        external_ref: row.try_get("external_ref")?,
        view_token: row.try_get("view_token")?,
        sent_at: row.try_get("sent_at")?,
        pdf_version: row.try_get("pdf_version")?,
        pricing: serde_json::from_str(&pricing)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Tx {
    /// The org's next quote number for `year`: `Q-<year>-<4 digits>`.
    pub async fn next_quote_number(&mut self, org_id: &str, year: i32) -> anyhow::Result<String> {
        let last: i64 = sqlx::query(
            "INSERT INTO quote_counters (org_id, year, last) VALUES ($1, $2, 1) \
             ON CONFLICT (org_id, year) DO UPDATE SET last = quote_counters.last + 1 RETURNING last",
        )
        .bind(org_id)
        .bind(i64::from(year))
        .fetch_one(self.conn())
        .await?
        .try_get("last")?;
        Ok(format!("Q-{year}-{last:04}"))
    }

    /// Stores a new quote with version 1 and links it as the submission's latest.
    pub async fn insert_quote(&mut self, quote: &Quote) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO quotes (id, org_id, submission_id, number, status, version, currency, reference, \
             valid_until, external_ref, view_token, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&quote.id)
        .bind(&quote.org_id)
        .bind(&quote.submission_id)
        .bind(&quote.number)
        .bind(&quote.status)
        .bind(&quote.currency)
        .bind(&quote.reference)
        .bind(quote.valid_until)
        .bind(&quote.external_ref)
        .bind(&quote.view_token)
        .bind(quote.created_at)
        .execute(self.conn())
        .await?;
        self.insert_quote_version(&quote.id, 1, &quote.pricing).await?;
        sqlx::query("UPDATE submissions SET latest_quote_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&quote.id)
            .bind(quote.created_at)
            .bind(&quote.submission_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn insert_quote_version(
        &mut self,
        quote_id: &str,
        version: i64,
        pricing: &Pricing,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO quote_versions (quote_id, version, pricing, created_at) VALUES ($1, $2, $3, $4)")
            .bind(quote_id)
            .bind(version)
            .bind(serde_json::to_string(pricing)?)
            .bind(now_ms())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Replaces the current version's line items (a draft).
    pub async fn replace_quote_items(
        &mut self,
        quote: &Quote,
        pricing: &Pricing,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE quote_versions SET pricing = $1 WHERE quote_id = $2 AND version = $3")
            .bind(serde_json::to_string(pricing)?)
            .bind(&quote.id)
            .bind(quote.version)
            .execute(self.conn())
            .await?;
        self.touch_quote(&quote.id, &quote.status, quote.version).await
    }

    /// Adds the next version with these items; the quote becomes a draft again.
    pub async fn revise_quote(&mut self, quote: &Quote, pricing: &Pricing) -> anyhow::Result<()> {
        self.insert_quote_version(&quote.id, quote.version + 1, pricing).await?;
        self.touch_quote(&quote.id, "draft", quote.version + 1).await
    }

    async fn touch_quote(&mut self, id: &str, status: &str, version: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE quotes SET status = $1, version = $2, updated_at = $3 WHERE id = $4")
            .bind(status)
            .bind(version)
            .bind(now_ms())
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Marks a quote sent now, if it is still a draft or sent at `version`; false if it
    /// changed meanwhile (revised, decided, expired).
    pub async fn mark_quote_sent(&mut self, id: &str, version: i64) -> anyhow::Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE quotes SET status = 'sent', sent_at = $1, pdf_version = version, updated_at = $1 \
             WHERE id = $2 AND version = $3 AND status IN ('draft', 'sent')",
        )
        .bind(now)
        .bind(id)
        .bind(version)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the customer's first view; false if it was viewed before.
    pub async fn mark_quote_viewed(&mut self, id: &str) -> anyhow::Result<bool> {
        let done =
            sqlx::query("UPDATE quotes SET viewed_at = $1 WHERE id = $2 AND viewed_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(self.conn())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Accepts or rejects a sent, unexpired quote; false if it is not (any more) open.
    pub async fn decide_quote(
        &mut self,
        id: &str,
        status: &str,
        decision: &serde_json::Value,
    ) -> anyhow::Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE quotes SET status = $1, decided_at = $2, decision = $3, updated_at = $2 \
             WHERE id = $4 AND status = 'sent' AND valid_until > $2",
        )
        .bind(status)
        .bind(now)
        .bind(decision.to_string())
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims the `quote.expiring_soon` notice of a sent quote; false if already claimed.
    pub async fn claim_expiring_notice(&mut self, id: &str) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE quotes SET expiring_notified_at = $1 WHERE id = $2 AND expiring_notified_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Expires a sent quote past its validity; false if it was not (any more) sent.
    pub async fn expire_quote(&mut self, id: &str) -> anyhow::Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE quotes SET status = 'expired', expired_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'sent' AND valid_until <= $1",
        )
        .bind(now)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// A quote by the token of its public page.
    pub async fn quote_by_view_token(&self, token: &str) -> anyhow::Result<Option<Quote>> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE q.view_token = $1");
        let row = sqlx::query(&sql).bind(token).fetch_optional(&self.reader).await?;
        row.as_ref().map(quote_from_row).transpose()
    }

    /// Sent quotes that expire before `horizon` and have not had their expiring notice, and
    /// sent quotes already past their validity: `(expiring, expired)`.
    pub async fn quotes_due_for_expiry(
        &self,
        now: i64,
        horizon: i64,
    ) -> anyhow::Result<(Vec<Quote>, Vec<Quote>)> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE q.status = 'sent' AND q.valid_until > $1 \
             AND q.valid_until <= $2 AND q.expiring_notified_at IS NULL"
        );
        let rows = sqlx::query(&sql).bind(now).bind(horizon).fetch_all(&self.reader).await?;
        let expiring = rows.iter().map(quote_from_row).collect::<anyhow::Result<_>>()?;
        let sql =
            format!("SELECT {COLUMNS} FROM {FROM} WHERE q.status = 'sent' AND q.valid_until <= $1");
        let rows = sqlx::query(&sql).bind(now).fetch_all(&self.reader).await?;
        let expired = rows.iter().map(quote_from_row).collect::<anyhow::Result<_>>()?;
        Ok((expiring, expired))
    }

    /// One quote of the org, at its current version.
    pub async fn quote(&self, org_id: &str, id: &str) -> anyhow::Result<Option<Quote>> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE q.org_id = $1 AND q.id = $2");
        let row = sqlx::query(&sql).bind(org_id).bind(id).fetch_optional(&self.reader).await?;
        row.as_ref().map(quote_from_row).transpose()
    }

    /// The org's quotes oldest first, optionally by status / submission, after a cursor.
    pub async fn list_quotes(
        &self,
        org_id: &str,
        status: Option<&str>,
        submission_id: Option<&str>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> anyhow::Result<Vec<Quote>> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE q.org_id = $1 AND ($2 = '' OR q.status = $2) \
             AND ($3 = '' OR q.submission_id = $3) \
             AND (q.created_at > $4 OR (q.created_at = $4 AND q.id > $5)) ORDER BY q.created_at, q.id LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(status.unwrap_or(""))
            .bind(submission_id.unwrap_or(""))
            .bind(after_at)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(quote_from_row).collect()
    }

    /// A quote's breakdown at `version`.
    pub async fn quote_version(
        &self,
        org_id: &str,
        id: &str,
        version: i64,
    ) -> anyhow::Result<Option<Pricing>> {
        let row = sqlx::query(
            "SELECT v.pricing FROM quote_versions v JOIN quotes q ON q.id = v.quote_id \
             WHERE q.org_id = $1 AND q.id = $2 AND v.version = $3",
        )
        .bind(org_id)
        .bind(id)
        .bind(version)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| Ok(serde_json::from_str(&row.try_get::<String, _>("pricing")?)?)).transpose()
    }

    /// Updates reference, validity and external reference (`None` keeps; inner `None` clears).
    pub async fn update_quote_fields(
        &self,
        org_id: &str,
        id: &str,
        reference: Option<Option<String>>,
        valid_until: Option<i64>,
        external_ref: Option<Option<String>>,
    ) -> anyhow::Result<Option<Quote>> {
        let Some(current) = self.quote(org_id, id).await? else { return Ok(None) };
        sqlx::query(
            "UPDATE quotes SET reference = $1, valid_until = $2, external_ref = $3, updated_at = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(reference.unwrap_or(current.reference))
        .bind(valid_until.unwrap_or(current.valid_until))
        .bind(external_ref.unwrap_or(current.external_ref))
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        self.quote(org_id, id).await
    }

    /// Marks the PDF of the quote's current version ready.
    pub async fn mark_quote_pdf_ready(&self, org_id: &str, id: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE quotes SET pdf_version = version WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The version numbers a quote has.
    pub async fn quote_versions(&self, quote_id: &str) -> anyhow::Result<Vec<i64>> {
        let rows =
            sqlx::query("SELECT version FROM quote_versions WHERE quote_id = $1 ORDER BY version")
                .bind(quote_id)
                .fetch_all(&self.reader)
                .await?;
        rows.iter().map(|row| Ok(row.try_get("version")?)).collect()
    }
}
