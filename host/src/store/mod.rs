//! All SQL lives here. One [`Store`] facade over SQLite or Postgres through sqlx's `Any`
//! driver: the schema keeps to portable types (TEXT, 64-bit integers; instants as epoch
//! milliseconds, booleans 0/1, JSON as TEXT) so one SQL text with `$n` placeholders runs on
//! both. Migrations are per backend (`host/migrations/{sqlite,postgres}`).
//!
//! Every tenant method takes the organisation id first: a record of another org is simply
//! not found.
//!
//! SQLite gets WAL, a busy timeout and a single-connection writer pool, so writes queue in
//! the pool instead of fighting for the file lock while reads run in parallel.

mod keys;
mod orgs;
mod templates;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::config::{Backend, DatabaseUrl};

pub use keys::NewApiKey;
pub use orgs::{NewOrg, OrgChanges};

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
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                conn.execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                                )
                                .await
                                .map(|_| ())
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
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .with_context(|| format!("cannot connect to {url}"))?;
                Self {
                    backend: Backend::Postgres,
                    writer: pool.clone(),
                    reader: pool,
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
        migrator
            .run(&self.writer)
            .await
            .context("applying migrations")?;
        Ok(())
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

/// Maps a stored enum name back to its type, failing loudly on a corrupt value.
fn parse_stored<T>(value: &str, parse: fn(&str) -> Option<T>, what: &str) -> anyhow::Result<T> {
    parse(value).with_context(|| format!("stored {what} `{value}` is not valid"))
}
