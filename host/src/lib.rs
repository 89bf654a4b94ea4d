//! `winfactor`: the WinFactor Deep API & Events service.
//!
//! Module map, by layer (top to bottom; a module imports only its own layer or below, with
//! no cycles — [`layering`] enforces it):
//!
//! - assembly: [`config`] (settings from flags, environment and file, validated at start),
//!   [`server`] (routers, probes, OpenAPI, middleware; the accept loop with its timeouts and
//!   caps), [`layering`] (this map, and the test that holds the code to it)
//! - HTTP edge: [`http`] (the state handlers reach, the one error type, extractors, auth,
//!   idempotency, input hygiene, rate limits), [`api`] (REST API v1, one file per
//!   resource), [`admin`] (the operator API: organisations, plans, keys, catalogs),
//!   [`public`] (the customer-facing API: configurator sessions, quotes, leads)
//! - services: [`services`] (the use cases — submit, quote lifecycle, lead intake,
//!   provisioning organisations and catalogs — each owning its transaction and emitting
//!   its typed event inside it), [`jobs`] (scheduled work: quote expiry), [`demo`] (the
//!   demo organisations, made like any other from the bundled catalog file)
//! - engines: [`pricing`] (the live pricing loop and the one fallback chain plugin →
//!   webhook → base), [`plugins`] (Wasm pricing plugins: sandbox, limits, shares,
//!   compilation), [`outbox`] (the webhook engine: events, emit, claiming, signed
//!   at-least-once delivery, SSRF guard, retries, the delivery log), [`mail`] (outgoing
//!   mail after commit), [`pdf`] (the quote PDF)
//! - store: [`store`] (the database core — pools, transactions, migrations, read cache —
//!   and the business resources' SQL, SQLite and Postgres)
//! - domain: [`catalog`] (templates, configuration, configHash, base pricing, pricing
//!   types), [`orgs`] (organisations, plans, API keys), [`locale`] (money, numbers and
//!   dates as customers read them), [`validation`], [`urls`], [`ids`], [`clock`],
//!   [`telemetry`] (every metric, named in one place)
//!
//! [`run`] takes a bound listener so tests start the real server on `127.0.0.1:0`.

pub mod admin;
pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod demo;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod layering;
pub mod locale;
pub mod mail;
pub mod orgs;
pub mod outbox;
pub mod pdf;
pub mod plugins;
pub mod pricing;
pub mod public;
pub mod server;
pub mod services;
pub mod store;
pub mod telemetry;
pub mod urls;
pub mod validation;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::http::AppState;
use crate::http::rate_limit::{RateLimiter, RequestLimits};
use crate::outbox::Sender;
use crate::pricing::Pricer;

pub use config::Config;
pub use store::Store;

/// The service's allocator, declared here rather than in `main.rs` so that the tests and
/// benchmarks, which link this library, run with what the service runs. mimalloc keeps
/// freeing cheap when memory changes threads, which is the common case here: database
/// rows are built on sqlx's connection threads and dropped on tokio's workers, requests
/// move between workers.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Opens (and migrates) the database, seeds the demo if asked, starts the delivery worker
/// (unless switched off) and serves HTTP on `listener` until `shutdown` resolves; in-flight
/// requests finish, and the worker records its in-flight deliveries before returning.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::open(&config.database_url).await?;
    serve(config, store, listener, shutdown).await
}

/// [`run`] on an already opened store (tests and benchmarks share it with the server, so
/// events they emit wake this process's delivery worker).
pub async fn serve(
    config: Config,
    store: Store,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Before anything else: a second server on one SQLite file must not touch it.
    let _single_node = store.serve_exclusively()?;
    telemetry::install();
    // First, so a connection cap the descriptors cannot carry stops the start at once.
    let descriptors = server::connections::raise_descriptor_limit();
    let caps = config.connections.caps(descriptors)?;
    if config.demo
        && let Some(key) = demo::seed(&store).await?
    {
        println!(
            "Demo organisation `{}` created. Read-write API key (shown once):",
            demo::DEMO_ORG_SLUG
        );
        println!("{}", key.secret);
    }
    let sender = Sender::new(&config.delivery);
    // Flips when shutdown starts: the worker stops claiming and open event streams end, so
    // the graceful drain of in-flight requests can complete.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let worker = config.worker.then(|| {
        outbox::start(store.clone(), sender.clone(), config.delivery.clone(), stopping.clone())
    });
    let scheduler = config.scheduler.then(|| {
        jobs::start(
            store.clone(),
            config.public_url.clone(),
            config.quote_expiry_interval,
            config.retention,
            stopping.clone(),
        )
    });
    let checkpoints = store.start_checkpoints(stopping.clone());
    // Postgres: what the other replicas announce (cache changes, price changes, deliveries).
    let bus = store.start_bus(stopping.clone());
    let limits = Arc::new(RequestLimits {
        api_keys: RateLimiter::per_minute(config.api_rate_per_minute),
        public: RateLimiter::per_minute(config.public_rate_per_minute),
        leads: RateLimiter::per_minute(config.lead_rate_per_minute),
    });
    let plugins = plugins::Plugins::new(
        store.clone(),
        config.plugin_limits,
        config.plugin_cache_dir.clone(),
        config.plugin_compiler.clone(),
    )?;
    let serves_api = config.role != config::Role::Worker;
    if serves_api {
        plugins.resume_compiles().await?;
    }
    let pricer = Pricer::new(
        store.clone(),
        plugins.clone(),
        config.public_url.clone(),
        config.pricing_debounce,
    );
    let following = serves_api.then(|| pricer.follow_replicas(stopping.clone()));
    let recorded_runs = plugins.clone();
    let mailer = mail::Mailer::new(
        config.smtp_url.as_ref(),
        &config.mail_from,
        config.mail_timeout,
        config.mail_retry_schedule.clone(),
    )?
    .with_public_url(&config.public_url);
    // Quote mails are retried by the process that runs the delivery worker.
    let mail_worker = (config.worker && mailer.smtp()).then(|| {
        mail::start_worker(
            store.clone(),
            mailer.clone(),
            config.delivery.poll_interval,
            stopping.clone(),
        )
    });
    let streams = http::slots::Slots::new(caps.max_sse_streams, caps.max_sse_streams_per_session);
    let state = AppState {
        store: store.clone(),
        public_url: Arc::from(config.public_url.as_str()),
        allow_private_webhook_targets: config.delivery.allow_private_targets,
        sender,
        limits,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        pricer,
        plugins,
        mailer,
        stopping,
        streams,
        operator_token_sha256: config.operator_token_sha256,
        metrics: (config.metrics, config.metrics_token_sha256),
    };
    tracing::info!(addr = %listener.local_addr()?, database = %config.database_url, role = ?config.role,
        max_connections = caps.max_connections, open_file_limit = descriptors, "serving");
    let app = if serves_api {
        server::app(state, config.body_limit_bytes)
    } else {
        server::probes(state)
    };
    let graceful = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    server::connections::serve(listener, app, &config.connections, caps, graceful).await;
    if let Some(worker) = worker {
        worker.join().await;
    }
    for job in [scheduler, checkpoints, mail_worker, bus, following].into_iter().flatten() {
        let _ = job.await;
    }
    recorded_runs.flush_runs().await;
    store.close().await;
    Ok(())
}
