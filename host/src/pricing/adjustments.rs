//! Adjustments (replacement breakdowns stored per session and configHash) and the
//! single-use callback tokens through which an organisation's system stores them.

use sqlx::Row;

use super::Session;
use crate::catalog::Pricing;
use crate::catalog::PricingSource;
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::{Store, Tx};

/// A stored replacement breakdown.
#[derive(Debug, Clone)]
pub struct Adjustment {
    /// `adj_…`
    pub id: String,
    /// The configuration it prices.
    pub config_hash: String,
    /// `live`, `submission` or `autofill`.
    pub context: String,
    /// `external` or `plugin`.
    pub source: PricingSource,
    /// The breakdown.
    pub pricing: Pricing,
    /// Epoch ms.
    pub created_at: i64,
}

/// A callback token as stored.
#[derive(Debug, Clone)]
pub struct CallbackToken {
    /// The session it may adjust.
    pub session_id: String,
    /// Its organisation.
    pub org_id: String,
    /// The only configHash it may answer for.
    pub config_hash: String,
    /// Why it was issued.
    pub context: String,
}

/// What redeeming a callback token found.
#[derive(Debug, Clone)]
pub enum Redeemed {
    /// Valid and now used.
    Ok(CallbackToken),
    /// No such token, or expired.
    Unknown,
    /// Used before.
    AlreadyUsed,
    /// Valid, but issued for another configHash (left unused).
    HashMismatch(String),
}

impl Store {
    /// Stores an adjustment for (session, configHash).
    pub async fn insert_adjustment(
        &self,
        session: &Session,
        config_hash: &str,
        context: &str,
        source: PricingSource,
        pricing: &Pricing,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO adjustments (id, session_id, org_id, config_hash, context, source, pricing, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id("adj"))
        .bind(&session.id)
        .bind(&session.org_id)
        .bind(config_hash)
        .bind(context)
        .bind(source.as_str())
        .bind(serde_json::to_string(pricing)?)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The session's adjustments (optionally only for one configHash), newest first.
    pub async fn adjustments(
        &self,
        session_id: &str,
        config_hash: Option<&str>,
    ) -> anyhow::Result<Vec<Adjustment>> {
        let rows = sqlx::query(
            "SELECT id, config_hash, context, source, pricing, created_at FROM adjustments \
             WHERE session_id = $1 AND ($2 = '' OR config_hash = $2) ORDER BY created_at DESC, id DESC",
        )
        .bind(session_id)
        .bind(config_hash.unwrap_or(""))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let pricing: String = row.try_get("pricing")?;
                Ok(Adjustment {
                    id: row.try_get("id")?,
                    config_hash: row.try_get("config_hash")?,
                    context: row.try_get("context")?,
                    source: crate::store::parse_stored(
                        row.try_get("source")?,
                        PricingSource::parse,
                        "source",
                    )?,
                    pricing: serde_json::from_str(&pricing)?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Redeems a callback token for `config_hash`: single use, bound to one hash. With
    /// `org_id` (the caller sent an API key) a token of another organisation is
    /// [`Redeemed::Unknown`], found by the same statement as a token that does not exist, and
    /// stays usable: the key's organisation learns nothing about it.
    pub async fn redeem_callback_token(
        &self,
        token: &str,
        config_hash: &str,
        org_id: Option<&str>,
    ) -> anyhow::Result<Redeemed> {
        let token_hash = crate::ids::sha256_hex(token);
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT session_id, org_id, config_hash, context, expires_at, used_at FROM callback_tokens \
             WHERE token_hash = $1 AND ($2 = '' OR org_id = $2)",
        )
        .bind(&token_hash)
        .bind(org_id.unwrap_or(""))
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else { return Ok(Redeemed::Unknown) };
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_at: Option<i64> = row.try_get("used_at")?;
        let token = CallbackToken {
            session_id: row.try_get("session_id")?,
            org_id: row.try_get("org_id")?,
            config_hash: row.try_get("config_hash")?,
            context: row.try_get("context")?,
        };
        if expires_at <= now_ms() {
            return Ok(Redeemed::Unknown);
        }
        if used_at.is_some() {
            return Ok(Redeemed::AlreadyUsed);
        }
        if token.config_hash != config_hash {
            return Ok(Redeemed::HashMismatch(token.config_hash));
        }
        let spent = sqlx::query(
            "UPDATE callback_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now_ms())
        .bind(&token_hash)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        // Two answers racing past the read: the one whose update found the token unused won.
        if spent.rows_affected() == 0 {
            return Ok(Redeemed::AlreadyUsed);
        }
        Ok(Redeemed::Ok(token))
    }
}

impl Tx {
    /// Stores a callback token (by its hash) in this transaction.
    pub async fn insert_callback_token(
        &mut self,
        token: &str,
        session: &Session,
        config_hash: &str,
        context: &str,
        expires_at: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO callback_tokens (token_hash, session_id, org_id, config_hash, context, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::ids::sha256_hex(token))
        .bind(&session.id)
        .bind(&session.org_id)
        .bind(config_hash)
        .bind(context)
        .bind(expires_at)
        .bind(now_ms())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
