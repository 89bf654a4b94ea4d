//! Leads from the public contact form.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::{Store, Tx, parse_stored};
use crate::clock::now_ms;

/// Where a lead is in the sales pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LeadStatus {
    /// Just arrived.
    New,
    /// Someone reached out.
    Contacted,
    /// Worth a quote.
    Qualified,
    /// Done.
    Closed,
}

impl LeadStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Contacted => "contacted",
            Self::Qualified => "qualified",
            Self::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "new" => Some(Self::New),
            "contacted" => Some(Self::Contacted),
            "qualified" => Some(Self::Qualified),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// A contact-form lead.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lead {
    /// `lead_…`
    pub id: String,
    /// Who wrote.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their phone.
    pub phone: Option<String>,
    /// What they wrote.
    pub message: String,
    /// Pipeline status.
    pub status: LeadStatus,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

fn lead_from_row(row: &AnyRow) -> anyhow::Result<Lead> {
    Ok(Lead {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        message: row.try_get("message")?,
        status: parse_stored(row.try_get("status")?, LeadStatus::parse, "lead status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "id, name, email, phone, message, status, created_at, updated_at";

impl Tx {
    /// Stores a new lead.
    pub async fn insert_lead(&mut self, org_id: &str, lead: &Lead) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO leads (id, org_id, name, email, phone, message, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&lead.id)
        .bind(org_id)
        .bind(&lead.name)
        .bind(&lead.email)
        .bind(&lead.phone)
        .bind(&lead.message)
        .bind(lead.status.as_str())
        .bind(lead.created_at)
        .bind(lead.updated_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The org's leads, newest first, optionally by status and after a time, before a cursor.
    pub async fn list_leads(
        &self,
        org_id: &str,
        status: Option<LeadStatus>,
        created_after: Option<i64>,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> anyhow::Result<Vec<Lead>> {
        let (before_at, before_id) = before.unwrap_or((i64::MAX, String::new()));
        let sql = format!(
            "SELECT {COLUMNS} FROM leads WHERE org_id = $1 AND ($2 = '' OR status = $2) \
             AND created_at > $3 AND (created_at < $4 OR (created_at = $4 AND ($5 = '' OR id < $5))) \
             ORDER BY created_at DESC, id DESC LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(org_id)
            .bind(status.map_or("", LeadStatus::as_str))
            .bind(created_after.unwrap_or(i64::MIN))
            .bind(before_at)
            .bind(before_id)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(lead_from_row).collect()
    }

    /// One lead of the org.
    pub async fn lead(&self, org_id: &str, id: &str) -> anyhow::Result<Option<Lead>> {
        let sql = format!("SELECT {COLUMNS} FROM leads WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org_id).bind(id).fetch_optional(&self.reader).await?;
        row.as_ref().map(lead_from_row).transpose()
    }

    /// Sets a lead's status; `None` when the org has no such lead.
    pub async fn set_lead_status(
        &self,
        org_id: &str,
        id: &str,
        status: LeadStatus,
    ) -> anyhow::Result<Option<Lead>> {
        sqlx::query("UPDATE leads SET status = $1, updated_at = $2 WHERE org_id = $3 AND id = $4")
            .bind(status.as_str())
            .bind(now_ms())
            .bind(org_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.lead(org_id, id).await
    }
}
