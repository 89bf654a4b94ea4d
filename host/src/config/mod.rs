//! Service configuration: flags and environment (via clap), an optional TOML file, defaults —
//! in that order of precedence — validated once at start with a clear message per bad value.
//!
//! Secrets (database passwords) never reach logs: [`DatabaseUrl`] redacts itself in `Debug`
//! and `Display`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::clock::parse_duration;
use crate::outbox::{DeliveryConfig, RetrySchedule};
use crate::plugins::PluginLimits;
use crate::server::connections::ConnectionLimits;
use crate::urls::{DatabaseUrl, SecretUrl};

mod connections;
mod delivery;
mod mail;
mod plugins;

pub use crate::validation::ConfigError;

/// Default SQLite database, created next to where the service starts.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://winfactor.db";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default request body limit (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The validated configuration of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server binds (ignored by `run`, which takes a bound listener).
    pub listen: SocketAddr,
    /// Which database to use; SQLite files are created on start.
    pub database_url: DatabaseUrl,
    /// Base of every URL the service hands out (callback and quote view links).
    pub public_url: String,
    /// Seed the demo organisations if they are missing.
    pub demo: bool,
    /// Maximum accepted request body in bytes (413 above it).
    pub body_limit_bytes: usize,
    /// What clients can hold open: connection timeouts and caps, price streams.
    pub connections: ConnectionLimits,
    /// What this process does (`--role`): serve the APIs, deliver webhooks, or both.
    pub role: Role,
    /// Run the delivery worker in this process (off for API-only replicas).
    pub worker: bool,
    /// Webhook delivery tuning.
    pub delivery: DeliveryConfig,
    /// Public lead form submissions allowed per client IP per minute.
    pub lead_rate_per_minute: u32,
    /// REST v1 requests allowed per API key per minute.
    pub api_rate_per_minute: u32,
    /// Public route requests allowed per client IP per minute.
    pub public_rate_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client.
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// Quiet time after a configuration change before `pricing.calculated` fires.
    pub pricing_debounce: Duration,
    /// Run scheduled jobs (quote expiry) in this process.
    pub scheduler: bool,
    /// How often the quote expiry check runs.
    pub quote_expiry_interval: Duration,
    /// How long what grows with use is kept (sessions, idempotency keys, mails).
    pub retention: crate::jobs::Retention,
    /// SMTP server for outgoing mail; without it mail only goes to the outbox.
    pub smtp_url: Option<SecretUrl>,
    /// Sender of outgoing mail.
    pub mail_from: String,
    /// Longest SMTP attempt (a quote mail's lease is twice this plus 5 s).
    pub mail_timeout: Duration,
    /// Delays before each retry of a quote mail the SMTP server did not take.
    pub mail_retry_schedule: RetrySchedule,
    /// Limits of Wasm pricing plugin runs.
    pub plugin_limits: PluginLimits,
    /// Where precompiled plugin artifacts are kept across restarts.
    pub plugin_cache_dir: PathBuf,
    /// How to start a compile worker (`winfactor serve`: its own binary); `None` compiles
    /// in this process, without the compile memory limit (embedders).
    pub plugin_compiler: Option<crate::plugins::CompilerCommand>,
    /// SHA-256 of the operator token that opens `/admin/v1`; `None` keeps it closed (404).
    pub operator_token_sha256: Option<[u8; 32]>,
    /// Serve `GET /metrics` (Prometheus text).
    pub metrics: bool,
    /// SHA-256 of the token `/metrics` then requires; `None`: open to anyone who reaches it.
    pub metrics_token_sha256: Option<[u8; 32]>,
}

/// What a `winfactor serve` process does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The HTTP APIs and pages, the delivery worker, the scheduler (if enabled).
    #[default]
    All,
    /// The HTTP APIs and pages; deliveries are left to worker processes.
    Api,
    /// Webhook and mail delivery; HTTP answers only the probes and `/metrics`.
    Worker,
}

impl Config {
    /// A configuration for tests and embedding: defaults plus the given database.
    pub fn for_database(database_url: &str) -> Result<Self, ConfigError> {
        Settings { database_url: Some(database_url.to_owned()), ..Settings::default() }.resolve()
    }
}

/// Raw, unvalidated settings from one source (flags/env or the TOML file).
#[derive(Debug, Default, Clone, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "WINFACTOR_LISTEN")]
    pub listen: Option<String>,
    /// `sqlite://FILE` (default `sqlite://winfactor.db`) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Public base URL used in callback and view links (default `http://<listen>`).
    #[arg(long, env = "WINFACTOR_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Allow webhook targets on loopback/private networks (off by default).
    #[arg(long, env = "WINFACTOR_ALLOW_PRIVATE_WEBHOOK_TARGETS")]
    pub allow_private_webhook_targets: Option<bool>,
    /// Maximum request body size in bytes.
    #[arg(long, env = "WINFACTOR_BODY_LIMIT_BYTES")]
    pub body_limit_bytes: Option<usize>,
    /// Longest wait for a request head, idle keep-alive time included, e.g. `10s`.
    #[arg(long, env = "WINFACTOR_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Option<String>,
    /// Longest a request body may take to arrive after its head, e.g. `60s`.
    #[arg(long, env = "WINFACTOR_REQUEST_BODY_TIMEOUT")]
    pub request_body_timeout: Option<String>,
    /// Open connections at most (default: derived from the open-file limit).
    #[arg(long, env = "WINFACTOR_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Open connections per client IP address (IPv6: per /64).
    #[arg(long, env = "WINFACTOR_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    /// Open price streams (SSE) at most (default: half of `max_connections`).
    #[arg(long, env = "WINFACTOR_MAX_SSE_STREAMS")]
    pub max_sse_streams: Option<usize>,
    /// Open price streams (SSE) per configuration session.
    #[arg(long, env = "WINFACTOR_MAX_SSE_STREAMS_PER_SESSION")]
    pub max_sse_streams_per_session: Option<usize>,
    /// Seed the demo organisations if missing.
    #[arg(long, env = "WINFACTOR_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
    /// What this process does: `all` (default), `api` (HTTP APIs and pages, no delivery
    /// worker) or `worker` (webhook and mail delivery; HTTP serves only the probes and
    /// `/metrics`). Several replicas on one Postgres database split the work this way.
    #[arg(long, env = "WINFACTOR_ROLE", value_enum)]
    pub role: Option<Role>,
    /// Run the webhook delivery worker in this process (default: unless `role` is `api`).
    #[arg(long, env = "WINFACTOR_WORKER")]
    pub worker: Option<bool>,
    /// Per-attempt webhook timeout, e.g. `10s`.
    #[arg(long, env = "WINFACTOR_WEBHOOK_TIMEOUT")]
    pub webhook_timeout: Option<String>,
    /// Retry delays after failed attempts, e.g. `1m,5m,15m`.
    #[arg(long, env = "WINFACTOR_WEBHOOK_RETRY_SCHEDULE")]
    pub webhook_retry_schedule: Option<String>,
    /// Disable an endpoint that has failed continuously for this long, e.g. `3d`.
    #[arg(long, env = "WINFACTOR_WEBHOOK_DISABLE_AFTER")]
    pub webhook_disable_after: Option<String>,
    /// Keep delivered payloads and attempts this long, e.g. `30d`.
    #[arg(long, env = "WINFACTOR_WEBHOOK_RETENTION")]
    pub webhook_retention: Option<String>,
    /// How often the worker looks for due deliveries written by other processes.
    #[arg(long, env = "WINFACTOR_WEBHOOK_POLL_INTERVAL")]
    pub webhook_poll_interval: Option<String>,
    /// Concurrent deliveries per process (queued lane; the fast lane has its own).
    #[arg(long, env = "WINFACTOR_WEBHOOK_CONCURRENCY")]
    pub webhook_concurrency: Option<usize>,
    /// Concurrent deliveries per endpoint.
    #[arg(long, env = "WINFACTOR_WEBHOOK_ENDPOINT_CONCURRENCY")]
    pub webhook_endpoint_concurrency: Option<usize>,
    /// Lead form submissions per client IP per minute.
    #[arg(long, env = "WINFACTOR_LEAD_RATE_PER_MINUTE")]
    pub lead_rate_per_minute: Option<u32>,
    /// REST v1 requests per API key per minute (default 1200).
    #[arg(long, env = "WINFACTOR_API_RATE_PER_MINUTE")]
    pub api_rate_per_minute: Option<u32>,
    /// Public route requests per client IP per minute (default 1200).
    #[arg(long, env = "WINFACTOR_PUBLIC_RATE_PER_MINUTE")]
    pub public_rate_per_minute: Option<u32>,
    /// Proxies trusted to name the client, e.g. `127.0.0.1,10.0.0.0/8` (default none).
    #[arg(long, env = "WINFACTOR_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Quiet time after a configuration change before `pricing.calculated` fires, e.g. `250ms`.
    #[arg(long, env = "WINFACTOR_PRICING_DEBOUNCE")]
    pub pricing_debounce: Option<String>,
    /// Run scheduled jobs (quote expiry) in this process (default true).
    #[arg(long, env = "WINFACTOR_SCHEDULER")]
    pub scheduler: Option<bool>,
    /// How often the quote expiry check runs, e.g. `24h`.
    #[arg(long, env = "WINFACTOR_QUOTE_EXPIRY_INTERVAL")]
    pub quote_expiry_interval: Option<String>,
    /// Keep configuration sessions never submitted this long after their last change (`30d`).
    #[arg(long, env = "WINFACTOR_SESSION_RETENTION")]
    pub session_retention: Option<String>,
    /// Keep idempotency keys (their replay window) this long, at least `24h` (`24h`).
    #[arg(long, env = "WINFACTOR_IDEMPOTENCY_RETENTION")]
    pub idempotency_retention: Option<String>,
    /// Keep sent, failed and cancelled mails this long (`90d`).
    #[arg(long, env = "WINFACTOR_MAIL_RETENTION")]
    pub mail_retention: Option<String>,
    /// SMTP server, e.g. `smtp://user:pass@mail.example.com:587?tls=required`.
    #[arg(long, env = "WINFACTOR_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail, e.g. `Window Works <quotes@example.com>`.
    #[arg(long, env = "WINFACTOR_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Longest SMTP attempt, e.g. `30s`.
    #[arg(long, env = "WINFACTOR_MAIL_TIMEOUT")]
    pub mail_timeout: Option<String>,
    /// Delays before each retry of a quote mail, e.g. `1m,5m,15m,1h,6h`.
    #[arg(long, env = "WINFACTOR_MAIL_RETRY_SCHEDULE")]
    pub mail_retry_schedule: Option<String>,
    /// HTTP(S) proxy for webhook deliveries, e.g. `http://proxy.internal:3128` (a proxy in
    /// the environment, `HTTPS_PROXY` and the like, is never used).
    #[arg(long, env = "WINFACTOR_WEBHOOK_PROXY_URL", hide_env_values = true)]
    pub webhook_proxy_url: Option<String>,
    /// Longest plugin run (default `50ms`; the customer's remaining budget shortens it).
    #[arg(long, env = "WINFACTOR_PLUGIN_BUDGET")]
    pub plugin_budget: Option<String>,
    /// Linear-memory cap of a plugin run, MiB (default 32).
    #[arg(long, env = "WINFACTOR_PLUGIN_MEMORY_MIB")]
    pub plugin_memory_mib: Option<usize>,
    /// Concurrent plugin runs (pooling allocator slots, default 32).
    #[arg(long, env = "WINFACTOR_PLUGIN_SLOTS")]
    pub plugin_slots: Option<u32>,
    /// Directory of precompiled plugin artifacts (default `winfactor-plugin-cache` in the
    /// system temporary directory).
    #[arg(long, env = "WINFACTOR_PLUGIN_CACHE_DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
    /// Plugin runs of one organisation at once (default 8).
    #[arg(long, env = "WINFACTOR_PLUGIN_ORG_SLOTS")]
    pub plugin_org_slots: Option<u32>,
    /// Plugin time one organisation may use per second, ms (default 250).
    #[arg(long, env = "WINFACTOR_PLUGIN_ORG_CPU_MS_PER_SECOND")]
    pub plugin_org_cpu_ms_per_second: Option<u32>,
    /// Threads executing plugin runs (default 2; 0: on the HTTP workers).
    #[arg(long, env = "WINFACTOR_PLUGIN_THREADS")]
    pub plugin_threads: Option<usize>,
    /// Longest compilation of an upload, e.g. `60s`.
    #[arg(long, env = "WINFACTOR_PLUGIN_COMPILE_TIMEOUT")]
    pub plugin_compile_timeout: Option<String>,
    /// Memory a compilation may use, MiB (default 2048).
    #[arg(long, env = "WINFACTOR_PLUGIN_COMPILE_MEMORY_MIB")]
    pub plugin_compile_memory_mib: Option<usize>,
    /// Plugin versions one organisation may store (default 50).
    #[arg(long, env = "WINFACTOR_PLUGIN_MAX_VERSIONS")]
    pub plugin_max_versions: Option<u32>,
    /// Plugin bytes one organisation may store, MiB (default 256).
    #[arg(long, env = "WINFACTOR_PLUGIN_MAX_STORED_MIB")]
    pub plugin_max_stored_mib: Option<u64>,
    /// Hex SHA-256 of the operator token for `/admin/v1` (`winfactor operator-token` makes
    /// one); unset, the operator API is off.
    #[arg(long, env = "WINFACTOR_OPERATOR_TOKEN_SHA256", hide_env_values = true)]
    pub operator_token_sha256: Option<String>,
    /// Serve `GET /metrics` in Prometheus text format (default true).
    #[arg(long, env = "WINFACTOR_METRICS")]
    pub metrics: Option<bool>,
    /// Hex SHA-256 of a bearer token `/metrics` then requires (unset: no token).
    #[arg(long, env = "WINFACTOR_METRICS_TOKEN_SHA256", hide_env_values = true)]
    pub metrics_token_sha256: Option<String>,
}

impl Settings {
    /// Reads a TOML settings file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigError::new("config", format!("cannot read {}: {err}", path.display()))
        })?;
        toml::from_str(&text)
            .map_err(|err| ConfigError::new("config", format!("{}: {err}", path.display())))
    }

    /// Fills every unset value from `fallback`.
    pub fn or(self, fallback: Settings) -> Settings {
        Settings {
            listen: self.listen.or(fallback.listen),
            database_url: self.database_url.or(fallback.database_url),
            public_url: self.public_url.or(fallback.public_url),
            allow_private_webhook_targets: self
                .allow_private_webhook_targets
                .or(fallback.allow_private_webhook_targets),
            body_limit_bytes: self.body_limit_bytes.or(fallback.body_limit_bytes),
            header_read_timeout: self.header_read_timeout.or(fallback.header_read_timeout),
            request_body_timeout: self.request_body_timeout.or(fallback.request_body_timeout),
            max_connections: self.max_connections.or(fallback.max_connections),
            max_connections_per_ip: self.max_connections_per_ip.or(fallback.max_connections_per_ip),
            max_sse_streams: self.max_sse_streams.or(fallback.max_sse_streams),
            max_sse_streams_per_session: self
                .max_sse_streams_per_session
                .or(fallback.max_sse_streams_per_session),
            demo: self.demo.or(fallback.demo),
            role: self.role.or(fallback.role),
            worker: self.worker.or(fallback.worker),
            webhook_timeout: self.webhook_timeout.or(fallback.webhook_timeout),
            webhook_retry_schedule: self.webhook_retry_schedule.or(fallback.webhook_retry_schedule),
            webhook_disable_after: self.webhook_disable_after.or(fallback.webhook_disable_after),
            webhook_retention: self.webhook_retention.or(fallback.webhook_retention),
            webhook_poll_interval: self.webhook_poll_interval.or(fallback.webhook_poll_interval),
            webhook_concurrency: self.webhook_concurrency.or(fallback.webhook_concurrency),
            webhook_endpoint_concurrency: self
                .webhook_endpoint_concurrency
                .or(fallback.webhook_endpoint_concurrency),
            lead_rate_per_minute: self.lead_rate_per_minute.or(fallback.lead_rate_per_minute),
            api_rate_per_minute: self.api_rate_per_minute.or(fallback.api_rate_per_minute),
            public_rate_per_minute: self.public_rate_per_minute.or(fallback.public_rate_per_minute),
            trusted_proxies: self.trusted_proxies.or(fallback.trusted_proxies),
            pricing_debounce: self.pricing_debounce.or(fallback.pricing_debounce),
            scheduler: self.scheduler.or(fallback.scheduler),
            quote_expiry_interval: self.quote_expiry_interval.or(fallback.quote_expiry_interval),
            session_retention: self.session_retention.or(fallback.session_retention),
            idempotency_retention: self.idempotency_retention.or(fallback.idempotency_retention),
            mail_retention: self.mail_retention.or(fallback.mail_retention),
            smtp_url: self.smtp_url.or(fallback.smtp_url),
            mail_from: self.mail_from.or(fallback.mail_from),
            mail_timeout: self.mail_timeout.or(fallback.mail_timeout),
            mail_retry_schedule: self.mail_retry_schedule.or(fallback.mail_retry_schedule),
            webhook_proxy_url: self.webhook_proxy_url.or(fallback.webhook_proxy_url),
            plugin_budget: self.plugin_budget.or(fallback.plugin_budget),
            plugin_memory_mib: self.plugin_memory_mib.or(fallback.plugin_memory_mib),
            plugin_slots: self.plugin_slots.or(fallback.plugin_slots),
            plugin_cache_dir: self.plugin_cache_dir.or(fallback.plugin_cache_dir),
            plugin_org_slots: self.plugin_org_slots.or(fallback.plugin_org_slots),
            plugin_org_cpu_ms_per_second: self
                .plugin_org_cpu_ms_per_second
                .or(fallback.plugin_org_cpu_ms_per_second),
            plugin_threads: self.plugin_threads.or(fallback.plugin_threads),
            plugin_compile_timeout: self.plugin_compile_timeout.or(fallback.plugin_compile_timeout),
            plugin_compile_memory_mib: self
                .plugin_compile_memory_mib
                .or(fallback.plugin_compile_memory_mib),
            plugin_max_versions: self.plugin_max_versions.or(fallback.plugin_max_versions),
            plugin_max_stored_mib: self.plugin_max_stored_mib.or(fallback.plugin_max_stored_mib),
            operator_token_sha256: self.operator_token_sha256.or(fallback.operator_token_sha256),
            metrics: self.metrics.or(fallback.metrics),
            metrics_token_sha256: self.metrics_token_sha256.or(fallback.metrics_token_sha256),
        }
    }

    /// Applies defaults and validates every value.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let connections = connections::resolve(&self)?;
        let delivery = delivery::resolve(&self)?;
        let mail = mail::resolve(&self)?;
        let plugin_limits = plugins::resolve(&self)?;
        let listen_text = self.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("`{listen_text}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let database_url =
            DatabaseUrl::parse(self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))?;
        let public_url = match self.public_url {
            Some(url) => validate_public_url(&url)?,
            None => format!("http://{listen}"),
        };
        let body_limit_bytes = self.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT);
        if !(1024..=64 * 1024 * 1024).contains(&body_limit_bytes) {
            return Err(ConfigError::new("body_limit_bytes", "must be between 1024 and 67108864"));
        }
        let pricing_debounce = duration(
            "pricing_debounce",
            self.pricing_debounce.as_deref(),
            Duration::from_millis(250),
        )?;
        if pricing_debounce > Duration::from_secs(10) {
            return Err(ConfigError::new("pricing_debounce", "at most 10s"));
        }
        let quote_expiry_interval = duration(
            "quote_expiry_interval",
            self.quote_expiry_interval.as_deref(),
            Duration::from_secs(86_400),
        )?;
        if quote_expiry_interval < Duration::from_millis(10) {
            return Err(ConfigError::new("quote_expiry_interval", "at least 10ms"));
        }
        let defaults = crate::jobs::Retention::default();
        let retention = crate::jobs::Retention {
            sessions: duration(
                "session_retention",
                self.session_retention.as_deref(),
                defaults.sessions,
            )?,
            idempotency_keys: duration(
                "idempotency_retention",
                self.idempotency_retention.as_deref(),
                defaults.idempotency_keys,
            )?,
            mail: duration("mail_retention", self.mail_retention.as_deref(), defaults.mail)?,
        };
        if retention.idempotency_keys < Duration::from_secs(86_400) {
            return Err(ConfigError::new(
                "idempotency_retention",
                "at least 24h (the replay window)",
            ));
        }
        let lead_rate_per_minute = self.lead_rate_per_minute.unwrap_or(10);
        let api_rate_per_minute = self.api_rate_per_minute.unwrap_or(1200);
        let public_rate_per_minute = self.public_rate_per_minute.unwrap_or(1200);
        for (setting, rate) in [
            ("lead_rate_per_minute", lead_rate_per_minute),
            ("api_rate_per_minute", api_rate_per_minute),
            ("public_rate_per_minute", public_rate_per_minute),
        ] {
            if rate == 0 {
                return Err(ConfigError::new(setting, "must be at least 1"));
            }
        }
        let trusted_proxies = crate::http::client_ip::TrustedProxies::parse(
            self.trusted_proxies.as_deref().unwrap_or_default(),
        )
        .map_err(|why| ConfigError::new("trusted_proxies", why))?;
        let role = self.role.unwrap_or_default();
        if role == Role::Worker && self.worker == Some(false) {
            return Err(ConfigError::new("worker", "a `worker` role runs the delivery worker"));
        }
        let plugin_cache_dir = self
            .plugin_cache_dir
            .unwrap_or_else(|| std::env::temp_dir().join("winfactor-plugin-cache"));
        Ok(Config {
            listen,
            database_url,
            public_url,
            demo: self.demo.unwrap_or(false),
            body_limit_bytes,
            connections,
            role,
            worker: self.worker.unwrap_or(role != Role::Api),
            delivery,
            lead_rate_per_minute,
            api_rate_per_minute,
            public_rate_per_minute,
            trusted_proxies,
            pricing_debounce,
            scheduler: self.scheduler.unwrap_or(true),
            quote_expiry_interval,
            retention,
            smtp_url: mail.smtp_url,
            mail_from: mail.from,
            mail_timeout: mail.timeout,
            mail_retry_schedule: mail.retry_schedule,
            plugin_limits,
            plugin_cache_dir,
            plugin_compiler: None,
            operator_token_sha256: token_sha256(
                "operator_token_sha256",
                self.operator_token_sha256.as_deref(),
            )?,
            metrics: self.metrics.unwrap_or(true),
            metrics_token_sha256: token_sha256(
                "metrics_token_sha256",
                self.metrics_token_sha256.as_deref(),
            )?,
        })
    }
}

/// Loads settings from flags/env, then `config_file` if given, then defaults.
pub fn load(cli: Settings, config_file: Option<&PathBuf>) -> Result<Config, ConfigError> {
    let file = match config_file {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    cli.or(file).resolve()
}

/// `text` parsed as a duration (`250ms`, `10s`, `5m`), or `default` when the setting is
/// unset.
fn duration(
    setting: &'static str,
    text: Option<&str>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match text {
        Some(text) => parse_duration(text).map_err(|message| ConfigError::new(setting, message)),
        None => Ok(default),
    }
}

/// `text` parsed as a retry schedule (`1m,5m,30m`), or `default` when the setting is unset.
fn schedule(
    setting: &'static str,
    text: Option<&str>,
    default: RetrySchedule,
) -> Result<RetrySchedule, ConfigError> {
    match text {
        Some(text) => text.parse().map_err(|message| ConfigError::new(setting, message)),
        None => Ok(default),
    }
}

fn validate_public_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| ConfigError::new("public_url", "must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(ConfigError::new("public_url", format!("`{url}` has no valid host")));
    }
    Ok(trimmed.to_owned())
}

/// A token's hash from its hex text (setting `setting`): 64 hex digits.
fn token_sha256(
    setting: &'static str,
    hex_text: Option<&str>,
) -> Result<Option<[u8; 32]>, ConfigError> {
    let Some(text) = hex_text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).map_err(|_| {
        ConfigError::new(
            setting,
            "64 hex digits: the SHA-256 of the token (`winfactor operator-token` prints both)",
        )
    })?;
    Ok(Some(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_password_is_redacted_everywhere() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/winfactor").unwrap();
        let config = Settings { database_url: Some(url.expose().into()), ..Default::default() }
            .resolve()
            .unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!url.to_string().contains("s3cret"));
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/winfactor");
    }

    #[test]
    fn bad_values_name_their_setting() {
        let err = Settings { listen: Some("nowhere".into()), ..Default::default() }
            .resolve()
            .unwrap_err();
        assert_eq!(err.setting, "listen");
        let err = Settings { database_url: Some("mysql://x".into()), ..Default::default() }
            .resolve()
            .unwrap_err();
        assert_eq!(err.setting, "database_url");
        let err = Settings { public_url: Some("ftp://x".into()), ..Default::default() }
            .resolve()
            .unwrap_err();
        assert_eq!(err.setting, "public_url");
    }

    #[test]
    fn flags_win_over_file_and_sqlite_is_created_on_demand() {
        let cli = Settings { listen: Some("127.0.0.1:9000".into()), ..Default::default() };
        let file: Settings =
            toml::from_str("listen = \"0.0.0.0:1\"\ndatabase_url = \"sqlite://x.db\"").unwrap();
        let config = cli.or(file).resolve().unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.database_url.expose(), "sqlite://x.db?mode=rwc");
        assert_eq!(config.public_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn durations_and_schedules_parse() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("3d").unwrap(), Duration::from_secs(259_200));
        assert!(parse_duration("soon").is_err());
        let config =
            Settings { webhook_retry_schedule: Some("50ms, 1s".into()), ..Default::default() }
                .resolve()
                .unwrap();
        assert_eq!(
            config.delivery.retry_schedule.0,
            [Duration::from_millis(50), Duration::from_secs(1)]
        );
        let err = Settings { webhook_timeout: Some("ten".into()), ..Default::default() }
            .resolve()
            .unwrap_err();
        assert_eq!(err.setting, "webhook_timeout");
    }
}
