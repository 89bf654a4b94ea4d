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

impl Store {
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
