//! The database core: one [`Store`] facade over SQLite or Postgres through sqlx's `Any`
//! driver: the schema keeps to portable types (TEXT, 64-bit integers; instants as epoch
//! milliseconds, booleans 0/1, JSON as TEXT) so one SQL text with `$n` placeholders runs on
//! both. Migrations are per backend (`host/migrations/{sqlite,postgres}`).
//!
//! Besides pools, transactions ([`Tx`], with hooks that run once it has committed) and
//! migrations, the store holds the plain data access of the business resources. The
//! engines above keep their own SQL (the webhook outbox's in `outbox`, the configuration
//! sessions' and adjustments' in `pricing`), built on the helpers here, and keep per-store
//! state as [`Attachment`]s.
//!
//! Every tenant method takes the organisation id first: a record of another org is simply
//! not found.
//!
//! SQLite gets WAL, a busy timeout and a single-connection writer pool, so writes queue in
//! the pool instead of fighting for the file lock while reads run in parallel; a running
//! server copies the WAL back into the database in the background ([`checkpoint`]), so no
//! write waits for that.
//!
//! What every live price reads and almost nothing writes (organisations, templates, the
//! active plugin, who subscribes to `pricing.calculated` and with which filters) is read through a per-process
//! cache ([`cache`]) that this store's own writes clear.

mod attached;
mod bus;
pub mod cache;
mod checkpoint;
mod contacts;
mod idempotency;
mod keys;
mod leads;
mod logos;
mod mail;
mod orgs;
mod plugins;
mod quotes;
mod submissions;
mod templates;
pub mod text;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Connection, Executor};

use crate::urls::{Backend, DatabaseUrl};

pub use attached::Attachment;
pub use bus::{Notice, Topic};
pub use contacts::{Contact, ContactChanges, ContactDetails};
pub use idempotency::IdempotencyClaim;
pub use keys::NewApiKey;
pub use leads::{Lead, LeadStatus};
pub use logos::OrgLogo;
pub use mail::{ClaimedMail, MailRecord, MailResult, MailStatus, OutboxMail};
pub use orgs::{NewOrg, OrgChanges};
pub use plugins::{
    NewPluginVersion, PluginRun, PluginStatus, PluginVersion, RUNS_KEPT, StorageRefusal,
};
pub use quotes::Quote;
pub use submissions::Submission;
pub use templates::{LATEST, TemplateWrite};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connection pools and the backend they talk to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// Runs every write (and reads inside write transactions). One connection on SQLite.
    writer: AnyPool,
    /// Runs plain reads; the same pool as `writer` on Postgres.
    reader: AnyPool,
    /// What the layers above keep per store.
    attached: Arc<attached::Attachments>,
    /// Organisations, templates and active plugins, read through.
    cache: Arc<cache::ReadCache>,
    /// Where the database is (the notification listener opens its own connection).
    url: DatabaseUrl,
    /// Notices to and from the other processes on this database.
    bus: Arc<bus::Bus>,
}

/// Postgres: a pooled connection idle at least this long is pinged before it is used.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How a [`Store::atomic`] write commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commit {
    /// Like every [`Store::begin`] transaction: on disk (`fsync`ed) when it returns.
    Flushed,
    /// In SQLite's WAL (in the OS's hands) but not `fsync`ed: it survives a crash of this
    /// process, while a power cut or kernel crash may roll back the last moments of such
    /// writes — whole transactions, never part of one — until the next flushed commit or
    /// checkpoint makes them durable too. Only for what can be redone: what a customer's
    /// screen shows while configuring (the live loop's hot write) and the plugin run log.
    /// Submissions, quotes, events and deliveries commit flushed. On Postgres the same
    /// contract is `SET LOCAL synchronous_commit = off`: the commit returns before the
    /// server flushes its WAL, and a crash of the database server (not of this process) may
    /// roll back the last moments of such transactions.
    Unflushed,
}

/// A database transaction; changes and the events they cause commit together.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    attached: Arc<attached::Attachments>,
    backend: Backend,
    bus: Arc<bus::Bus>,
    /// Run, in order, once the transaction has committed.
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
}

impl Tx {
    /// Commits, then runs the [`Tx::after_commit`] hooks (none if the commit fails).
    pub async fn commit(self) -> anyhow::Result<()> {
        self.inner.commit().await?;
        for hook in self.after_commit {
            hook();
        }
        Ok(())
    }

    /// Runs `hook` once this transaction has committed; never if it rolls back or is
    /// dropped (say, to wake a worker for the rows it wrote).
    pub fn after_commit(&mut self, hook: Box<dyn FnOnce() + Send>) {
        self.after_commit.push(hook);
    }

    /// The connection, for the SQL of this transaction.
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}

impl Store {
    /// Connects (creating an SQLite file if missing) without migrating.
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url.expose())
            .with_context(|| format!("invalid database URL {url}"))?;
        let store = match url.backend() {
            Backend::Sqlite => {
                let pool = |max| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(30))
                        // A local file does not go stale: skip the ping round trip that
                        // would otherwise precede every query.
                        .test_before_acquire(false)
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                // `mmap_size`: in WAL mode a connection drops its page
                                // cache whenever another one commits, so the readers
                                // (delivery claims above all) fetch their pages again and
                                // again; mapped, those pages are not copied in.
                                let pragmas = format!(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                                     PRAGMA wal_autocheckpoint = {}; PRAGMA cache_size = -65536; \
                                     PRAGMA mmap_size = 268435456;",
                                    checkpoint::WRITER_BACKSTOP_PAGES
                                );
                                conn.execute(pragmas.as_str()).await.map(|_| ())
                            })
                        })
                };
                let writer = pool(1).connect_with(options.clone()).await;
                let writer = writer.with_context(|| format!("cannot open {url}"))?;
                let reader = pool(4).connect_with(options).await?;
                Self {
                    backend: Backend::Sqlite,
                    writer,
                    reader,
                    attached: Arc::default(),
                    cache: Arc::default(),
                    url: url.clone(),
                    bus: Arc::default(),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    // sqlx would ping every connection it hands out: a round trip before
                    // each query (two per live price change). Only a connection that sat
                    // idle is checked (a failed ping discards it and another is taken), so
                    // after a database restart only connections in use at that moment fail,
                    // as they would anyway.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_IDLE_AFTER {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(options)
                    .await
                    .with_context(|| format!("cannot connect to {url}"))?;
                Self {
                    backend: Backend::Postgres,
                    writer: pool.clone(),
                    reader: pool,
                    attached: Arc::default(),
                    cache: Arc::default(),
                    url: url.clone(),
                    bus: Arc::default(),
                }
            }
        };
        Ok(store)
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies this backend's pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await.context("applying migrations")?;
        Ok(())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        // SQLite: take the write lock up front, so a transaction that reads before it
        // writes never fails to upgrade while another process holds the lock.
        let inner = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(Tx {
            inner,
            attached: self.attached.clone(),
            backend: self.backend,
            bus: self.bus.clone(),
            after_commit: Vec::new(),
        })
    }

    /// Runs `statements`, in order, as one transaction, and returns every row they return
    /// (give one of them a `RETURNING`).
    ///
    /// *One round trip* on SQLite: the statements go as one script (`BEGIN IMMEDIATE; …;
    /// COMMIT`) to the writer connection's thread, where sqlx would otherwise pay a round
    /// trip for BEGIN, for each statement and for COMMIT. On Postgres they run one by one
    /// in a transaction: a later statement sees what an earlier one's row locks waited for
    /// (folded into one statement of data-modifying `WITH` clauses they would share one
    /// snapshot; the live loop's hot write does that on purpose, see
    /// [`Store::change_session_configuration`]). The statements share the `$n` parameters
    /// `bind` adds (called once per statement on Postgres).
    ///
    /// [`Commit::Unflushed`] is only for what can be redone, see there.
    pub(crate) async fn atomic<F>(
        &self,
        commit: Commit,
        statements: &[&str],
        bind: F,
    ) -> anyhow::Result<Vec<AnyRow>>
    where
        F: for<'q> Fn(Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>>
            + Send
            + 'static,
    {
        match self.backend {
            Backend::Postgres => {
                let mut tx = match commit {
                    Commit::Flushed => self.writer.begin().await?,
                    Commit::Unflushed => {
                        self.writer.begin_with("BEGIN; SET LOCAL synchronous_commit = off").await?
                    }
                };
                let mut rows = Vec::new();
                for statement in statements {
                    rows.extend(bind(sqlx::query(statement)).fetch_all(&mut *tx).await?);
                }
                tx.commit().await?;
                Ok(rows)
            }
            Backend::Sqlite => {
                let script = match commit {
                    Commit::Flushed => {
                        format!("BEGIN IMMEDIATE; {}; COMMIT", statements.join("; "))
                    }
                    Commit::Unflushed => format!(
                        "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE; {}; COMMIT; \
                         PRAGMA synchronous = FULL",
                        statements.join("; ")
                    ),
                };
                let writer = self.writer.clone();
                // On its own task: a caller dropped half way (a client hanging up) must not
                // stop the script between BEGIN and COMMIT, which would leave the writer
                // connection inside a transaction.
                let write = tokio::spawn(async move {
                    let mut conn = writer.acquire().await?;
                    let result = bind(sqlx::query(&script)).fetch_all(&mut *conn).await;
                    if result.is_err() {
                        // A failed statement leaves the transaction open (unless SQLite
                        // already rolled it back, which makes ROLLBACK a harmless error).
                        let _ = conn.execute("ROLLBACK").await;
                        // SQLite refuses this inside a transaction: if it fails, the
                        // connection is not clean, and closing it rolls back; its
                        // successor starts flushed.
                        if conn.execute("PRAGMA synchronous = FULL").await.is_err() {
                            conn.close_on_drop();
                        }
                    }
                    anyhow::Ok(result?)
                });
                write.await?
            }
        }
    }

    /// A `FROM` item with one row per element of the JSON array bound as `$param`, in a
    /// column `value` that `->>` reads fields of: many rows through one parameter and one
    /// statement text, whatever their number.
    pub(crate) fn json_elements(&self, param: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("json_each(${param})"),
            Backend::Postgres => {
                format!("jsonb_array_elements(CAST(${param} AS jsonb)) AS elements(value)")
            }
        }
    }

    /// A subquery with one row per id of the JSON array of strings bound as `$param` (an
    /// [`id_list`]), for `IN (…)`. On SQLite each id is the element itself: no JSON object
    /// to render and read a field out of per row.
    pub(crate) fn json_ids(&self, param: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("SELECT value FROM json_each(${param})"),
            Backend::Postgres => {
                format!("SELECT jsonb_array_elements_text(CAST(${param} AS jsonb))")
            }
        }
    }

    /// The pool that runs every write (one connection on SQLite).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// The pool that runs plain reads (the writer's on Postgres).
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// `columns` of the rows of `table` whose `id` is among `ids`, read on a reader
    /// connection through one fixed statement text.
    pub(crate) async fn read_by_ids(
        &self,
        columns: &str,
        table: &str,
        ids: &[&str],
    ) -> anyhow::Result<Vec<AnyRow>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE id IN ({})", self.json_ids(1));
        let rows =
            sqlx::query(&sql).bind(id_list(ids.iter().copied())).fetch_all(&self.reader).await?;
        Ok(rows)
    }

    /// Sets the pool gauges ([`crate::telemetry::db_pool`]).
    pub fn observe_pools(&self) {
        let observe = |name, pool: &AnyPool| {
            let (size, idle) = (pool.size() as usize, pool.num_idle());
            crate::telemetry::db_pool(name, idle, size.saturating_sub(idle));
        };
        observe("writer", &self.writer);
        if self.backend == Backend::Sqlite {
            observe("reader", &self.reader);
        }
    }

    /// Makes this process the only server of its SQLite file, for as long as the returned
    /// lock lives: SQLite serves one process (its caches, live loop and delivery lanes assume
    /// so), and a second one is refused here with a message naming Postgres. `None` on
    /// Postgres, where replicas are welcome, and for an in-memory database.
    pub fn serve_exclusively(&self) -> anyhow::Result<Option<std::fs::File>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(self.url.expose())?;
        let path = options.get_filename();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return Ok(None);
        }
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open {} to lock it", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another `winfactor serve` is using the SQLite database {}: SQLite serves one \
                 process. To run several replicas, use PostgreSQL (--database-url \
                 postgres://…, see docs/deployment.md)",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(err)) => {
                Err(err).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `SELECT 1` through the reader pool (readiness probe).
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Closes every connection (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Ids as a JSON array of strings, each once, for a [`Store::json_ids`] subquery.
pub(crate) fn id_list<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let ids: std::collections::BTreeSet<&str> = ids.collect();
    serde_json::to_string(&ids).expect("ids serialize")
}

/// `$first, $first+1, …` placeholders for an `IN (…)` list of `count` values.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Maps a stored enum name back to its type, failing loudly on a corrupt value.
pub(crate) fn parse_stored<T>(
    value: &str,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> anyhow::Result<T> {
    parse(value).with_context(|| format!("stored {what} `{value}` is not valid"))
}
