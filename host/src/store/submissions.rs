//! Submissions: a configuration the customer submitted, with its frozen pricing.

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, Tx, parse_stored};
use crate::catalog::PricingSource;
use crate::catalog::{Configuration, Pricing};

/// A stored submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// `sub_…`
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// The session it came from.
    pub session_id: String,
    /// The template configured.
    pub template_id: String,
    /// The version of the template the configuration was priced against (frozen with it).
    pub template_version: i64,
    /// The contact it was filed under.
    pub contact_id: String,
    /// `{name, email, phone, companyName}` as submitted.
    pub customer: Value,
    /// The customer's locale, if known.
    pub customer_locale: Option<String>,
    /// Free text from the customer.
    pub notes: Option<String>,
    /// How many units of this configuration.
    pub unit_amount: i64,
    /// The final canonical configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// The frozen breakdown.
    pub pricing: Pricing,
    /// Who priced it.
    pub pricing_source: PricingSource,
    /// The integrator's reference.
    pub external_ref: Option<String>,
    /// The newest quote made from it.
    pub latest_quote_id: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org_id, session_id, template_id, contact_id, customer, customer_locale, \
    notes, unit_amount, configuration, config_hash, pricing, pricing_source, external_ref, \
    latest_quote_id, created_at, updated_at, template_version";

fn submission_from_row(row: &AnyRow) -> anyhow::Result<Submission> {
    let customer: String = row.try_get("customer")?;
    let configuration: String = row.try_get("configuration")?;
    let pricing: String = row.try_get("pricing")?;
    Ok(Submission {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        session_id: row.try_get("session_id")?,
        template_id: row.try_get("template_id")?,
        template_version: row.try_get("template_version")?,
        contact_id: row.try_get("contact_id")?,
        customer: serde_json::from_str(&customer)?,
        customer_locale: row.try_get("customer_locale")?,
        notes: row.try_get("notes")?,
        unit_amount: row.try_get("unit_amount")?,
        configuration: serde_json::from_str(&configuration)?,
        config_hash: row.try_get("config_hash")?,
        pricing: serde_json::from_str(&pricing)?,
        pricing_source: parse_stored(
            row.try_get("pricing_source")?,
            PricingSource::parse,
            "source",
        )?,
        external_ref: row.try_get("external_ref")?,
        latest_quote_id: row.try_get("latest_quote_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Tx {
    /// Stores a submission.
    pub async fn insert_submission(&mut self, submission: &Submission) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "INSERT INTO submissions ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(&submission.id)
        .bind(&submission.org_id)
        .bind(&submission.session_id)
        .bind(&submission.template_id)
        .bind(&submission.contact_id)
        .bind(submission.customer.to_string())
        .bind(&submission.customer_locale)
        .bind(&submission.notes)
        .bind(submission.unit_amount)
        .bind(serde_json::to_string(&submission.configuration)?)
        .bind(&submission.config_hash)
        .bind(serde_json::to_string(&submission.pricing)?)
        .bind(submission.pricing_source.as_str())
        .bind(&submission.external_ref)
        .bind(&submission.latest_quote_id)
        .bind(submission.created_at)
        .bind(submission.updated_at)
        .bind(submission.template_version)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The org's submissions oldest first, created after `created_after` and after the
    /// keyset cursor `(created_at, id)`: stable while new ones arrive.
    pub async fn list_submissions(
        &self,
        org_id: &str,
        created_after: Option<i64>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> anyhow::Result<Vec<Submission>> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "SELECT {COLUMNS} FROM submissions WHERE org_id = $1 AND created_at > $2 \
             AND (created_at > $3 OR (created_at = $3 AND id > $4)) \
             ORDER BY created_at, id LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(created_after.unwrap_or(i64::MIN))
            .bind(after_at)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(submission_from_row).collect()
    }

    /// Sets or clears a submission's `externalRef`; `None` when the org has no such one.
    pub async fn set_submission_external_ref(
        &self,
        org_id: &str,
        id: &str,
        external_ref: Option<&str>,
    ) -> anyhow::Result<Option<Submission>> {
        sqlx::query("UPDATE submissions SET external_ref = $1, updated_at = $2 WHERE org_id = $3 AND id = $4")
            .bind(external_ref)
            .bind(crate::clock::now_ms())
            .bind(org_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.submission(org_id, id).await
    }

    /// One submission of the org.
    pub async fn submission(&self, org_id: &str, id: &str) -> anyhow::Result<Option<Submission>> {
        let sql = format!("SELECT {COLUMNS} FROM submissions WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org_id).bind(id).fetch_optional(&self.reader).await?;
        row.as_ref().map(submission_from_row).transpose()
    }
}
