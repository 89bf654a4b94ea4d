//! Configuration sessions and their configuration history, the live change's write, and
//! this process's hints of the sessions being configured — the SQL the live loop owns,
//! as methods of the [`Store`] declared beside it.

use std::sync::Arc;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::catalog::SessionPricing;
use crate::catalog::{Configuration, Pricing, Template};
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::{Attachment, Commit, Store, Tx};
use crate::urls::Backend;

/// Sessions kept as hints, per store: the ones being configured right now (a session is a
/// few kilobytes), each dropped after a quarter of an hour without a change.
struct RecentSessions(moka::sync::Cache<String, Arc<Session>>);

impl Default for RecentSessions {
    fn default() -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(4_096)
            .time_to_idle(std::time::Duration::from_secs(15 * 60))
            .build();
        Self(cache)
    }
}

impl Attachment for RecentSessions {}

// The live change's writes, as pieces `concat!` assembles into SQLite's script and into
// Postgres's one statement (parameters as [`SessionWrite`] binds them).

/// The guard of a configuration change: it was worked out from the session as the caller
/// read it (`$11` its `pricing_seq`, `$12` whether an answer of the organisation's system
/// was known), so it applies only while that still holds and the session is not submitted.
/// Every write of the row bumps `pricing_seq` or sets `submission_id`; an external answer
/// is an `adjustments` row.
macro_rules! unchanged_since_read {
    () => {
        "pricing_seq = $11 AND submission_id IS NULL AND ($12 = 1 OR NOT EXISTS \
         (SELECT 1 FROM adjustments a WHERE a.session_id = $5 AND a.source = 'external'))"
    };
}

/// Stores the new configuration and price on the session row, if unchanged since read;
/// returns `pricing_seq` (the SSE id) and `config_seq` (the history number).
macro_rules! update_session {
    () => {
        concat!(
            "UPDATE configuration_sessions SET configuration = $1, config_hash = $2, \
             pricing = $3, pricing_seq = pricing_seq + 1, config_seq = config_seq + 1, \
             updated_at = $4, template_version = $13 WHERE id = $5 AND ",
            unchanged_since_read!(),
            " RETURNING pricing_seq, config_seq"
        )
    };
}

/// Adds the history entry numbered `$seq` (an expression over the rows after `FROM`).
macro_rules! insert_history_from {
    ($seq:literal) => {
        concat!(
            "INSERT INTO session_configurations (session_id, seq, config_hash, configuration, \
             created_at) SELECT $5, ",
            $seq,
            ", $2, $1, $4 FROM "
        )
    };
}

/// Stores the plugin's answer (`$8`, if any) once per row after `FROM`.
macro_rules! insert_plugin_answer_from {
    () => {
        "INSERT INTO adjustments (id, session_id, org_id, config_hash, context, source, \
         pricing, created_at) SELECT $6, $5, $7, $2, 'live', 'plugin', $8, $4 FROM "
    };
}

/// The plugin's answer for a new session's first configuration.
const INSERT_FIRST_PLUGIN_ANSWER: &str = concat!(
    insert_plugin_answer_from!(),
    "configuration_sessions WHERE id = $5 AND $8 IS NOT NULL"
);

/// A customer's configurator session.
#[derive(Debug, Clone)]
pub struct Session {
    /// `cs_…` (unguessable: it is the customer's only credential).
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// The template being configured.
    pub template_id: String,
    /// The version of the template its price is worked out against: the current one when
    /// the session started or last changed its configuration.
    pub template_version: i64,
    /// Where the session started (e.g. `configurator`).
    pub origin: String,
    /// Current canonical configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// What the customer sees now.
    pub pricing: SessionPricing,
    /// SSE id of `pricing`; grows with every change.
    pub pricing_seq: i64,
    /// Set once submitted.
    pub submission_id: Option<String>,
    /// Whether the organisation's own system (not a plugin) has stored an answer for any
    /// configuration of the session: only then can a configuration's price come from the
    /// stored answers rather than be worked out afresh.
    pub answered_externally: bool,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
}

/// One entry of a session's configuration history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// 1-based position.
    pub seq: i64,
    /// The configuration's hash.
    pub config_hash: String,
    /// Epoch ms.
    pub created_at: i64,
}

const COLUMNS: &str = "id, org_id, template_id, template_version, origin, configuration, \
    config_hash, pricing, pricing_seq, submission_id, created_at, updated_at";

fn session_from_row(row: &AnyRow) -> anyhow::Result<Session> {
    let configuration: String = row.try_get("configuration")?;
    let pricing: String = row.try_get("pricing")?;
    Ok(Session {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        template_id: row.try_get("template_id")?,
        template_version: row.try_get("template_version")?,
        origin: row.try_get("origin")?,
        configuration: serde_json::from_str(&configuration)?,
        config_hash: row.try_get("config_hash")?,
        pricing: serde_json::from_str(&pricing)?,
        pricing_seq: row.try_get("pricing_seq")?,
        submission_id: row.try_get("submission_id")?,
        answered_externally: row.try_get::<i64, _>("answered_externally")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// A fresh session id (`cs_` and 32 random characters: the id is the credential).
    pub fn new_session_id() -> String {
        format!("cs_{}", crate::ids::random_alphanumeric(32))
    }

    /// Creates a session with its first configuration and pricing (seq 1), and the
    /// plugin's answer for it if there is one, in one transaction: one round trip, unflushed
    /// ([`Commit::Unflushed`]: a configurator session is redone, not lost business).
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_session(
        &self,
        id: &str,
        org_id: &str,
        template: &Template,
        origin: &str,
        configuration: &Configuration,
        pricing: &SessionPricing,
        plugin_answer: Option<&Pricing>,
    ) -> anyhow::Result<Session> {
        const INSERT_SESSION: &str = "INSERT INTO configuration_sessions (id, org_id, template_id, \
            template_version, origin, configuration, config_hash, pricing, pricing_seq, \
            config_seq, created_at, updated_at) VALUES ($5, $7, $9, $13, $10, $1, $2, $3, 1, 1, \
            $4, $4)";
        const FIRST_HISTORY: &str = "INSERT INTO session_configurations \
            (session_id, seq, config_hash, configuration, created_at) VALUES ($5, 1, $2, $1, $4)";
        let now = now_ms();
        let session = Session {
            id: id.to_owned(),
            org_id: org_id.to_owned(),
            template_id: template.id.clone(),
            template_version: template.version,
            origin: origin.to_owned(),
            configuration: configuration.clone(),
            config_hash: pricing.config_hash.clone(),
            pricing: pricing.clone(),
            pricing_seq: 1,
            submission_id: None,
            answered_externally: false,
            created_at: now,
            updated_at: now,
        };
        let write = SessionWrite::new(
            &session,
            template.version,
            configuration,
            pricing,
            plugin_answer,
            now,
        )?;
        self.atomic(
            Commit::Unflushed,
            &[INSERT_SESSION, FIRST_HISTORY, INSERT_FIRST_PLUGIN_ANSWER],
            move |query| write.bind(query),
        )
        .await?;
        self.attached::<RecentSessions>().0.insert(session.id.clone(), Arc::new(session.clone()));
        Ok(session)
    }

    /// A session by its id (public: the id is the credential), as stored now.
    pub async fn session(&self, id: &str) -> anyhow::Result<Option<Session>> {
        let sql = format!(
            "SELECT {COLUMNS}, CAST(CASE WHEN EXISTS (SELECT 1 FROM adjustments a \
             WHERE a.session_id = s.id AND a.source = 'external') THEN 1 ELSE 0 END AS BIGINT) \
             AS answered_externally FROM configuration_sessions s WHERE s.id = $1"
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.reader()).await?;
        let session = row.as_ref().map(session_from_row).transpose()?;
        if let Some(session) = &session {
            self.attached::<RecentSessions>()
                .0
                .insert(session.id.clone(), Arc::new(session.clone()));
        }
        Ok(session)
    }

    /// The session as this process last read or wrote it (else as stored): the starting
    /// point of a configuration change, which saves the live loop a read per change. Only
    /// a hint — another process (or a racing request) may have changed the session since —
    /// which [`Store::change_session_configuration`] checks in the write itself; everything
    /// else reads [`Store::session`].
    pub async fn recent_session(&self, id: &str) -> anyhow::Result<Option<Session>> {
        match self.attached::<RecentSessions>().0.get(id) {
            Some(session) => Ok(Some(Session::clone(&session))),
            None => self.session(id).await,
        }
    }

    /// Updates this process's hint of a session it has just written.
    fn remember_write(&self, id: &str, write: impl FnOnce(&mut Session)) {
        if let Some(session) = self.attached::<RecentSessions>().0.get(id) {
            let mut session = Session::clone(&session);
            write(&mut session);
            self.attached::<RecentSessions>().0.insert(id.to_owned(), Arc::new(session));
        }
    }

    /// A session of the org.
    pub async fn org_session(&self, org_id: &str, id: &str) -> anyhow::Result<Option<Session>> {
        Ok(self.session(id).await?.filter(|s| s.org_id == org_id))
    }

    /// Records a new configuration of `session` with its pricing (and the plugin's answer
    /// for it, if any) in one transaction, and returns the new SSE seq — or `None`, writing
    /// nothing, when `session` is no longer what is stored (another change or an answer
    /// came in since it was read, an answer of the organisation's system was stored, or it
    /// was submitted): the caller works the change out again on a fresh read.
    ///
    /// This is the write of every live price change: one round trip, unflushed
    /// ([`Commit::Unflushed`]) — on SQLite a script on the writer's thread whose statements
    /// all carry the guard (the row update last, so each sees the state the change was
    /// worked out from), on Postgres one statement whose `WITH` clauses do the three writes
    /// after the guarded update (its commit waits for no WAL flush: `set_config` is local
    /// to that statement's transaction). The submission that freezes a price is flushed,
    /// and makes everything before it durable with it.
    pub async fn change_session_configuration(
        &self,
        session: &Session,
        template_version: i64,
        configuration: &Configuration,
        pricing: &SessionPricing,
        plugin_answer: Option<&Pricing>,
    ) -> anyhow::Result<Option<i64>> {
        const CHANGE_SESSION_SQLITE: [&str; 3] = [
            concat!(
                insert_history_from!("config_seq + 1"),
                "configuration_sessions WHERE id = $5 AND ",
                unchanged_since_read!()
            ),
            concat!(
                insert_plugin_answer_from!(),
                "configuration_sessions WHERE id = $5 AND $8 IS NOT NULL AND ",
                unchanged_since_read!()
            ),
            update_session!(),
        ];
        const CHANGE_SESSION_POSTGRES: &str = concat!(
            "WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true)), ",
            "changed AS (",
            update_session!(),
            "), history AS (",
            insert_history_from!("config_seq"),
            "changed), answer AS (",
            insert_plugin_answer_from!(),
            "changed WHERE $8 IS NOT NULL) SELECT pricing_seq FROM changed, unflushed"
        );
        let now = now_ms();
        let write = SessionWrite::new(
            session,
            template_version,
            configuration,
            pricing,
            plugin_answer,
            now,
        )?;
        let rows = match self.backend() {
            Backend::Sqlite => {
                self.atomic(Commit::Unflushed, &CHANGE_SESSION_SQLITE, move |query| {
                    write.bind(query)
                })
                .await?
            }
            Backend::Postgres => {
                write.bind(sqlx::query(CHANGE_SESSION_POSTGRES)).fetch_all(self.writer()).await?
            }
        };
        let Some(row) = rows.first() else {
            self.attached::<RecentSessions>().0.invalidate(&session.id);
            return Ok(None);
        };
        let seq: i64 = row.try_get("pricing_seq")?;
        self.remember_write(&session.id, |remembered| {
            remembered.configuration = configuration.clone();
            remembered.config_hash = pricing.config_hash.clone();
            remembered.pricing = pricing.clone();
            remembered.pricing_seq = seq;
            remembered.template_version = template_version;
            remembered.updated_at = now;
        });
        Ok(Some(seq))
    }

    /// Replaces the pricing shown, only while the session is still on `pricing.config_hash`
    /// (and, if `expected` is given, still shows exactly that); returns the new SSE seq, or
    /// `None` when the customer has moved on or the pricing changed meanwhile.
    pub async fn set_session_pricing(
        &self,
        id: &str,
        pricing: &SessionPricing,
        expected: Option<&SessionPricing>,
    ) -> anyhow::Result<Option<i64>> {
        let expected = expected.map(serde_json::to_string).transpose()?.unwrap_or_default();
        let row = sqlx::query(
            "UPDATE configuration_sessions SET pricing = $1, pricing_seq = pricing_seq + 1, updated_at = $2 \
             WHERE id = $3 AND config_hash = $4 AND submission_id IS NULL AND ($5 = '' OR pricing = $5) \
             RETURNING pricing_seq",
        )
        .bind(serde_json::to_string(pricing)?)
        .bind(now_ms())
        .bind(id)
        .bind(&pricing.config_hash)
        .bind(expected)
        .fetch_optional(self.writer())
        .await?;
        let seq: Option<i64> = row.map(|row| row.try_get("pricing_seq")).transpose()?;
        if let Some(seq) = seq {
            self.remember_write(id, |remembered| {
                remembered.pricing = pricing.clone();
                remembered.pricing_seq = seq;
            });
        }
        Ok(seq)
    }

    /// The session's configuration history, oldest first.
    pub async fn session_history(&self, id: &str) -> anyhow::Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT seq, config_hash, created_at FROM session_configurations WHERE session_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryEntry {
                    seq: row.try_get("seq")?,
                    config_hash: row.try_get("config_hash")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}

impl Tx {
    /// Marks the session submitted.
    pub async fn mark_session_submitted(
        &mut self,
        session_id: &str,
        submission_id: &str,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE configuration_sessions SET submission_id = $1, updated_at = $2 \
             WHERE id = $3 AND submission_id IS NULL",
        )
        .bind(submission_id)
        .bind(now_ms())
        .bind(session_id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Deletes the sessions never submitted and unchanged since `before` (epoch ms), with
    /// their configuration history, answers and callback tokens; and every callback token
    /// that expired before then. Submitted sessions stay: their submissions and quotes read
    /// them. Returns the rows deleted.
    pub async fn prune_idle_sessions(&self, before: i64) -> anyhow::Result<u64> {
        const IDLE: &str = "SELECT id FROM configuration_sessions \
                            WHERE submission_id IS NULL AND updated_at < $1";
        let statements = [
            format!("DELETE FROM session_configurations WHERE session_id IN ({IDLE})"),
            format!("DELETE FROM adjustments WHERE session_id IN ({IDLE})"),
            format!("DELETE FROM callback_tokens WHERE session_id IN ({IDLE}) OR expires_at < $1"),
            "DELETE FROM configuration_sessions WHERE submission_id IS NULL AND updated_at < $1"
                .to_owned(),
        ];
        let mut tx = self.begin().await?;
        let mut deleted = 0;
        for statement in &statements {
            deleted +=
                sqlx::query(statement).bind(before).execute(tx.conn()).await?.rows_affected();
        }
        // A claim past its deadline counts as none (see `Tx::claim_live_request`).
        sqlx::query("DELETE FROM live_requests WHERE until_ms < $1")
            .bind(crate::clock::now_ms())
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// Stores the plugin's answer (`$8`, when not NULL) with the configuration it prices.
/// The parameters shared by every statement that stores a session's configuration (one
/// list for all, so a statement text prepared once — on Postgres, with its parameter
/// count — fits every write): `$1` configuration, `$2` its hash, `$3` the pricing shown,
/// `$4` now, `$5` the session, `$6` an adjustment id, `$7` the organisation, `$8` the
/// plugin's answer or NULL, `$9` the template, `$10` the origin, and the guard's `$11`
/// `pricing_seq` and `$12` answered externally (0/1) of the session as read, `$13` the
/// template version the configuration was priced against.
struct SessionWrite {
    configuration: String,
    config_hash: String,
    pricing: String,
    now: i64,
    session_id: String,
    adjustment_id: String,
    org_id: String,
    plugin_answer: Option<String>,
    template_id: String,
    origin: String,
    read_pricing_seq: i64,
    read_answered_externally: i64,
    template_version: i64,
}

impl SessionWrite {
    /// The change to `configuration` and `pricing` of `session` (or its first ones) at `now`.
    fn new(
        session: &Session,
        template_version: i64,
        configuration: &Configuration,
        pricing: &SessionPricing,
        plugin_answer: Option<&Pricing>,
        now: i64,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            configuration: serde_json::to_string(configuration)?,
            config_hash: pricing.config_hash.clone(),
            pricing: serde_json::to_string(pricing)?,
            now,
            session_id: session.id.clone(),
            adjustment_id: new_id("adj"),
            org_id: session.org_id.clone(),
            plugin_answer: plugin_answer.map(serde_json::to_string).transpose()?,
            template_id: session.template_id.clone(),
            origin: session.origin.clone(),
            read_pricing_seq: session.pricing_seq,
            read_answered_externally: i64::from(session.answered_externally),
            template_version,
        })
    }

    fn bind<'q>(
        &self,
        query: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        query
            .bind(self.configuration.clone())
            .bind(self.config_hash.clone())
            .bind(self.pricing.clone())
            .bind(self.now)
            .bind(self.session_id.clone())
            .bind(self.adjustment_id.clone())
            .bind(self.org_id.clone())
            .bind(self.plugin_answer.clone())
            .bind(self.template_id.clone())
            .bind(self.origin.clone())
            .bind(self.read_pricing_seq)
            .bind(self.read_answered_externally)
            .bind(self.template_version)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::catalog::{self, Configuration};
    use crate::catalog::{PricingSource, PricingStatus};
    use crate::urls::DatabaseUrl;

    /// A live write that fails half way, or whose caller gives up, must leave the single
    /// writer connection outside any transaction and back at `synchronous = FULL`: every
    /// later write depends on it.
    #[tokio::test]
    async fn a_failed_or_abandoned_unflushed_write_leaves_the_writer_clean() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
        crate::demo::seed(&store).await.unwrap();
        let org = store.org_by_slug(crate::demo::DEMO_ORG_SLUG).await.unwrap().unwrap();
        let template = store.list_templates(&org.id).await.unwrap().remove(0);
        let configuration = Configuration {
            width: 1200,
            height: 2100,
            components: Vec::new(),
            inside_color_id: None,
            outside_color_id: None,
        };
        let hash = catalog::config_hash(&configuration);
        let base = catalog::base_pricing(&template, &configuration, &org.currency);
        let pricing = SessionPricing::new(
            &hash,
            PricingStatus::Confirmed,
            PricingSource::Plugin,
            base.clone(),
        );
        let insert = |id: &'static str| {
            let (store, org, template) = (store.clone(), org.clone(), template.clone());
            let (configuration, pricing, answer) =
                (configuration.clone(), pricing.clone(), base.clone());
            async move {
                let plugin_answer = Some(&answer);
                store
                    .insert_session(
                        id,
                        &org.id,
                        &template,
                        "test",
                        &configuration,
                        &pricing,
                        plugin_answer,
                    )
                    .await
            }
        };
        insert("cs_first").await.unwrap();
        // The same id again: the script's first INSERT fails inside BEGIN … COMMIT.
        assert!(insert("cs_first").await.is_err());
        // A caller that gives up at its first await.
        let abandoned = insert("cs_abandoned");
        let _ = tokio::time::timeout(std::time::Duration::ZERO, abandoned).await;

        let synchronous: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(store.writer())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(synchronous, 2, "the writer is back to FULL");
        let mut tx = store.begin().await.expect("the writer is outside a transaction");
        tx.mark_session_submitted("cs_first", "sub_1").await.unwrap();
        tx.commit().await.unwrap();
        insert("cs_second").await.expect("later writes go through");
        let answers = store.adjustments("cs_first", Some(&hash)).await.unwrap();
        assert_eq!(answers.len(), 1, "the failed write left nothing behind");
        store.close().await;
    }
}
