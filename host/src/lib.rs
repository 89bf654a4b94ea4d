//! `winfactor`: the WinFactor Deep API & Events service.
//!
//! Module map:
//! - [`config`] — settings from flags, environment and file, validated at start
//! - [`server`] — HTTP assembly: routers, probes, OpenAPI, middleware
//! - [`api`] — REST API v1, one file per resource
//! - [`catalog`] — templates, canonical configuration, configHash, base pricing
//! - [`store`] — all SQL (SQLite and Postgres), migrations
//! - [`orgs`] — organisations, plans, API keys
//! - [`demo`] — the demo organisations and catalog
//! - [`error`] — the one HTTP error type
//!
//! [`run`] takes a bound listener so tests start the real server on `127.0.0.1:0`.

pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod ids;
pub mod orgs;
pub mod server;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::Config;
pub use store::Store;

/// What every handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The validated configuration.
    pub config: Arc<Config>,
}

/// Opens (and migrates) the database, seeds the demo if asked, and serves HTTP on
/// `listener` until `shutdown` resolves; in-flight requests are allowed to finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::open(&config.database_url).await?;
    if config.demo {
        if let Some(key) = demo::seed(&store).await? {
            println!(
                "Demo organisation `{}` created. Read-write API key (shown once):",
                demo::DEMO_ORG_SLUG
            );
            println!("{}", key.secret);
        }
    }
    let state = AppState {
        store: store.clone(),
        config: Arc::new(config),
    };
    tracing::info!(addr = %listener.local_addr()?, database = %state.config.database_url, "serving");
    axum::serve(
        listener,
        server::app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    store.close().await;
    Ok(())
}
