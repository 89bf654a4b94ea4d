//! API keys: only a SHA-256 of each secret is stored.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::orgs::org_from_row;
use super::{Store, parse_stored};
use crate::clock::now_ms;
use crate::ids::{new_id, sha256_hex};
use crate::orgs::{ApiKey, Org, Scope, generate_api_key};

/// A freshly created key: the secret is returned exactly once.
#[derive(Debug)]
pub struct NewApiKey {
    /// The stored record.
    pub key: ApiKey,
    /// The secret to hand to the user; not recoverable later.
    pub secret: String,
}

fn key_from_row(row: &AnyRow) -> anyhow::Result<ApiKey> {
    Ok(ApiKey {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scope: parse_stored(row.try_get("scope")?, Scope::parse, "scope")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Creates a key for the org and returns its secret once.
    pub async fn create_api_key(
        &self,
        org_id: &str,
        name: &str,
        scope: Scope,
    ) -> anyhow::Result<NewApiKey> {
        let secret = generate_api_key();
        let key = ApiKey {
            id: new_id("key"),
            org_id: org_id.to_owned(),
            name: name.to_owned(),
            prefix: secret[..10].to_owned(),
            scope,
            created_at: now_ms(),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scope, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.org_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(sha256_hex(&secret))
        .bind(scope.as_str())
        .bind(key.created_at)
        .execute(&self.writer)
        .await?;
        Ok(NewApiKey { key, secret })
    }

    /// The key with this secret and its organisation, if the key exists (revoked or not).
    pub async fn api_key_by_secret(&self, secret: &str) -> anyhow::Result<Option<(ApiKey, Org)>> {
        let row = sqlx::query(
            "SELECT k.id AS key_id, k.name AS key_name, k.prefix, k.scope, \
                    k.created_at AS key_created_at, k.revoked_at, o.* \
             FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.key_hash = $1",
        )
        .bind(sha256_hex(secret))
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let org = org_from_row(&row)?;
        let key = ApiKey {
            id: row.try_get("key_id")?,
            org_id: org.id.clone(),
            name: row.try_get("key_name")?,
            prefix: row.try_get("prefix")?,
            scope: parse_stored(row.try_get("scope")?, Scope::parse, "scope")?,
            created_at: row.try_get("key_created_at")?,
            revoked_at: row.try_get("revoked_at")?,
        };
        Ok(Some((key, org)))
    }

    /// The org's keys, newest first.
    pub async fn list_api_keys(&self, org_id: &str) -> anyhow::Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, prefix, scope, created_at, revoked_at FROM api_keys \
             WHERE org_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(org_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes a key of the org; false when the org has no such active key.
    pub async fn revoke_api_key(&self, org_id: &str, key_id: &str) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 \
             WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(org_id)
        .bind(key_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
