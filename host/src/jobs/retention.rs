//! Retention: what grows with use but is not business history is deleted once old —
//! configuration sessions never submitted (with their history, answers and callback
//! tokens), idempotency keys past their replay window, finished mails. Submissions, quotes,
//! contacts and leads are the organisation's records and stay; the delivery log and plugin
//! runs have their own pruning (`webhook_retention`, the newest runs per version).
//!
//! Deletes are idempotent, so schedulers on several replicas pruning at once only repeat
//! each other's work.

use std::time::Duration;

use crate::clock::now_ms;
use crate::store::Store;

/// How long each kind is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Configuration sessions never submitted, counted from their last change.
    pub sessions: Duration,
    /// Idempotency keys (their replay window; at least a day).
    pub idempotency_keys: Duration,
    /// Mails no longer pending.
    pub mail: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            sessions: Duration::from_secs(30 * 86_400),
            idempotency_keys: Duration::from_secs(86_400),
            mail: Duration::from_secs(90 * 86_400),
        }
    }
}

/// Rows deleted by one pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Sessions and their rows.
    pub sessions: u64,
    /// Idempotency keys.
    pub idempotency_keys: u64,
    /// Mails.
    pub mail: u64,
}

/// One pass over every kind.
pub async fn run_once(store: &Store, retention: &Retention) -> anyhow::Result<Pruned> {
    let before = |kept: Duration| {
        now_ms().saturating_sub(i64::try_from(kept.as_millis()).unwrap_or(i64::MAX))
    };
    Ok(Pruned {
        sessions: store.prune_idle_sessions(before(retention.sessions)).await?,
        idempotency_keys: store.prune_idempotency_keys(before(retention.idempotency_keys)).await?,
        mail: store.prune_mail(before(retention.mail)).await?,
    })
}
