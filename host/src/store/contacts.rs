//! Contacts: one per (organisation, lower-cased email), upserted from submissions and from
//! the API.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::{Store, Tx};
use crate::clock::now_ms;
use crate::ids::new_id;

/// A customer contact.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// `con_…`
    pub id: String,
    /// Email as last given.
    pub email: String,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Company.
    pub company_name: Option<String>,
    /// The integrator's reference (`system:type:id`).
    pub external_ref: Option<String>,
    /// Submissions made with this email.
    pub submission_count: i64,
    /// Last submission (epoch ms).
    pub last_used_at: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// Contact details to upsert by email.
#[derive(Debug, Clone)]
pub struct ContactDetails {
    /// The key (compared case-insensitively).
    pub email: String,
    /// Name.
    pub name: String,
    /// Phone (kept when absent).
    pub phone: Option<String>,
    /// Company (kept when absent).
    pub company_name: Option<String>,
    /// External reference (kept when absent).
    pub external_ref: Option<String>,
}

fn contact_from_row(row: &AnyRow) -> anyhow::Result<Contact> {
    Ok(Contact {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        company_name: row.try_get("company_name")?,
        external_ref: row.try_get("external_ref")?,
        submission_count: row.try_get("submission_count")?,
        last_used_at: row.try_get("last_used_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "id, email, name, phone, company_name, external_ref, submission_count, \
    last_used_at, created_at, updated_at";

impl Tx {
    /// Creates or updates the org's contact with this email; a submission also counts one
    /// more submission and stamps `lastUsedAt`. Returns the contact.
    pub async fn upsert_contact(
        &mut self,
        org_id: &str,
        details: &ContactDetails,
        from_submission: bool,
    ) -> anyhow::Result<Contact> {
        let now = now_ms();
        let sql = format!(
            "INSERT INTO contacts (id, org_id, email, email_key, name, phone, company_name, external_ref, \
             submission_count, last_used_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (org_id, email_key) DO UPDATE SET email = excluded.email, name = excluded.name, \
             phone = COALESCE(excluded.phone, contacts.phone), \
             company_name = COALESCE(excluded.company_name, contacts.company_name), \
             external_ref = COALESCE(excluded.external_ref, contacts.external_ref), \
             submission_count = contacts.submission_count + excluded.submission_count, \
             last_used_at = COALESCE(excluded.last_used_at, contacts.last_used_at), \
             updated_at = excluded.updated_at RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new_id("con"))
            .bind(org_id)
            .bind(details.email.trim())
            .bind(details.email.trim().to_lowercase())
            .bind(&details.name)
            .bind(&details.phone)
            .bind(&details.company_name)
            .bind(&details.external_ref)
            .bind(i64::from(from_submission))
            .bind(from_submission.then_some(now))
            .bind(now)
            .fetch_one(self.conn())
            .await?;
        contact_from_row(&row)
    }
}

/// Changes to a contact; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactChanges {
    /// New name.
    pub name: Option<String>,
    /// New phone.
    pub phone: Option<Option<String>>,
    /// New company.
    pub company_name: Option<Option<String>>,
    /// New external reference.
    pub external_ref: Option<Option<String>>,
}

impl Store {
    /// Upserts a contact by email outside any other change (the API's idempotent upsert).
    pub async fn upsert_contact(
        &self,
        org_id: &str,
        details: &ContactDetails,
    ) -> anyhow::Result<Contact> {
        let mut tx = self.begin().await?;
        let contact = tx.upsert_contact(org_id, details, false).await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// The org's contacts (optionally one email), oldest first after the keyset cursor.
    pub async fn list_contacts(
        &self,
        org_id: &str,
        email: Option<&str>,
        created_after: Option<i64>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> anyhow::Result<Vec<Contact>> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts WHERE org_id = $1 AND ($2 = '' OR email_key = $2) \
             AND created_at > $3 AND (created_at > $4 OR (created_at = $4 AND id > $5)) \
             ORDER BY created_at, id LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(email.map(|e| e.trim().to_lowercase()).unwrap_or_default())
            .bind(created_after.unwrap_or(i64::MIN))
            .bind(after_at)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(contact_from_row).collect()
    }

    /// Applies changes to a contact of the org; `None` when there is no such contact.
    pub async fn update_contact(
        &self,
        org_id: &str,
        id: &str,
        changes: &ContactChanges,
    ) -> anyhow::Result<Option<Contact>> {
        let Some(current) = self.contact(org_id, id).await? else { return Ok(None) };
        sqlx::query(
            "UPDATE contacts SET name = $1, phone = $2, company_name = $3, external_ref = $4, updated_at = $5 \
             WHERE org_id = $6 AND id = $7",
        )
        .bind(changes.name.as_ref().unwrap_or(&current.name))
        .bind(changes.phone.clone().unwrap_or(current.phone))
        .bind(changes.company_name.clone().unwrap_or(current.company_name))
        .bind(changes.external_ref.clone().unwrap_or(current.external_ref))
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(&self.writer)
        .await?;
        self.contact(org_id, id).await
    }

    /// One contact of the org.
    pub async fn contact(&self, org_id: &str, id: &str) -> anyhow::Result<Option<Contact>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org_id).bind(id).fetch_optional(&self.reader).await?;
        row.as_ref().map(contact_from_row).transpose()
    }

    /// The org's contact with this email (case-insensitive).
    pub async fn contact_by_email(
        &self,
        org_id: &str,
        email: &str,
    ) -> anyhow::Result<Option<Contact>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE org_id = $1 AND email_key = $2");
        let row = sqlx::query(&sql)
            .bind(org_id)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(contact_from_row).transpose()
    }
}
