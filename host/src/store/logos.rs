//! Organisation logos: one image per organisation, bytes in the database.

use sqlx::Row;

use super::Store;
use crate::clock::now_ms;

/// An organisation's uploaded logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLogo {
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
    /// The image file.
    pub image: Vec<u8>,
    /// Hex SHA-256 of `image`.
    pub sha256: String,
    /// Epoch ms.
    pub updated_at: i64,
}

impl Store {
    /// The organisation's logo, if it has one.
    pub async fn org_logo(&self, org_id: &str) -> anyhow::Result<Option<OrgLogo>> {
        let row = sqlx::query(
            "SELECT content_type, image, sha256, updated_at FROM org_logos WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(OrgLogo {
            content_type: row.try_get("content_type")?,
            image: row.try_get("image")?,
            sha256: row.try_get("sha256")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Stores (or replaces) the organisation's logo.
    pub async fn set_org_logo(
        &self,
        org_id: &str,
        content_type: &str,
        image: &[u8],
        sha256: &str,
    ) -> anyhow::Result<OrgLogo> {
        let updated_at = now_ms();
        sqlx::query(
            "INSERT INTO org_logos (org_id, content_type, image, sha256, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id) DO UPDATE SET content_type = excluded.content_type, \
             image = excluded.image, sha256 = excluded.sha256, updated_at = excluded.updated_at",
        )
        .bind(org_id)
        .bind(content_type)
        .bind(image.to_vec())
        .bind(sha256)
        .bind(updated_at)
        .execute(&self.writer)
        .await?;
        Ok(OrgLogo {
            content_type: content_type.to_owned(),
            image: image.to_vec(),
            sha256: sha256.to_owned(),
            updated_at,
        })
    }

    /// Removes the organisation's logo; answers whether there was one.
    pub async fn delete_org_logo(&self, org_id: &str) -> anyhow::Result<bool> {
        let done = sqlx::query("DELETE FROM org_logos WHERE org_id = $1")
            .bind(org_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
