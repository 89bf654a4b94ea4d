//! Stored first answers of POSTs that carried an `Idempotency-Key`.

use sqlx::Row;

use super::Store;
use crate::clock::now_ms;

/// How long an answer is replayed.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 3_600_000;

/// What a key is in its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First use: the request runs.
    New,
    /// The first request with this key is still running.
    InProgress,
    /// Answered before: `(status, content type, body)` to replay.
    Done(u16, Option<String>, String),
}

impl Store {
    /// Claims `key` in `scope`, or reports its earlier answer.
    pub async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
    ) -> anyhow::Result<IdempotencyClaim> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at < $3",
        )
        .bind(scope)
        .bind(key)
        .bind(now - IDEMPOTENCY_TTL_MS)
        .execute(tx.conn())
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, status, created_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let claim = if inserted.rows_affected() == 1 {
            IdempotencyClaim::New
        } else {
            let row = sqlx::query("SELECT status, content_type, body FROM idempotency_keys WHERE scope = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .fetch_one(tx.conn())
                .await?;
            match row.try_get::<i64, _>("status")? {
                0 => IdempotencyClaim::InProgress,
                status => IdempotencyClaim::Done(
                    u16::try_from(status)?,
                    row.try_get("content_type")?,
                    row.try_get::<Option<String>, _>("body")?.unwrap_or_default(),
                ),
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    /// Stores the answer of a claimed key.
    pub async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE scope = $4 AND key = $5")
            .bind(i64::from(status))
            .bind(content_type)
            .bind(body)
            .bind(scope)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Deletes the keys claimed before `before` (epoch ms): past their replay window.
    pub async fn prune_idempotency_keys(&self, before: i64) -> anyhow::Result<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Forgets a claimed key (the request failed on our side; a retry may run).
    pub async fn release_idempotency_key(&self, scope: &str, key: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0")
            .bind(scope)
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
