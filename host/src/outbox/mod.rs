//! The webhook engine: events enter the transactional outbox with the change that causes
//! them ([`emit`]) and leave as signed, at-least-once deliveries.
//!
//! - [`events`]: the ten event types and the envelope
//! - [`emit`]: writing an event and its deliveries in the caller's transaction
//! - [`signing`]: `X-WinFactor-Signature` and Standard Webhooks signatures
//! - [`filters`]: per-endpoint content filters
//! - [`ssrf`]: which targets may be called, at registration and at connect time
//! - [`addresses`]: the table of address blocks no webhook may reach
//! - [`schedule`]: retry timing, `Retry-After`, fast-path expiry
//! - `endpoints`: the endpoints (subscriptions) and their SQL, [`WebhookEndpoints`]
//! - `rows`, `log`: the outbox's rows and the delivery log's queries, [`DeliveryLog`]
//! - `signal`: waking this process's lanes when deliveries commit, the fast-lane hand-off
//! - `claim`: one `Claimer` per lane, and the one place its strategy is chosen: the
//!   fast-lane hand-off, a lease per row, or (SQLite's queued lane) one lease for the lane
//!   (`lane_lease`); `attach`: the events' bodies and endpoints of claimed deliveries
//! - `worker`: the lanes that claim due deliveries and send them ([`Sender`], `send`)
//! - `record`: the results, written in batches; `retention`: pruning the log
//! - [`stats`]: an endpoint's last 24 hours (counts, success rate, latency percentiles)
//!
//! Two lanes: the *fast* lane (`pricing.calculated`) is woken on commit and never waits
//! behind the *queued* lane's backlog; each has its own concurrency budget, and each
//! endpoint is capped so one slow receiver cannot starve the others.

pub mod addresses;
mod attach;
mod claim;
mod emit;
mod endpoints;
pub mod events;
pub mod filters;
mod gauges;
mod lane_lease;
mod log;
mod record;
mod retention;
mod rows;
pub mod schedule;
mod send;
mod signal;
pub mod signing;
pub mod ssrf;
pub mod stats;
mod worker;

use std::time::Duration;

pub use emit::emit;
pub use endpoints::{Endpoint, EndpointChanges, NewEndpoint, WebhookEndpoints, would_deliver};
pub use events::{Envelope, EventType, NewEvent};
pub use gauges::observe_due;
pub use lane_lease::LaneLeases;
pub use log::DeliveryLog;
pub use record::Outcome;
pub use rows::{AttemptRow, DeliveryRow, DeliveryStatus, EventFilter, EventRow};
pub use schedule::RetrySchedule;
pub use send::{Response, SNIPPET_BYTES, Sender, USER_AGENT};
pub use stats::{EndpointStats, STATS_WINDOW_MS, endpoint_stats};
pub use worker::{Handle, start};

use crate::urls::SecretUrl;

/// Delivery tuning (see the README's configuration table).
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Queued-lane retry delays.
    pub retry_schedule: RetrySchedule,
    /// Disable an endpoint failing continuously for this long.
    pub disable_after: Duration,
    /// Keep payloads and attempts this long.
    pub retention: Duration,
    /// How often to look for work committed by other processes.
    pub poll_interval: Duration,
    /// Concurrent deliveries per lane.
    pub concurrency: usize,
    /// Concurrent deliveries per endpoint.
    pub endpoint_concurrency: usize,
    /// Allow loopback/private targets.
    pub allow_private_targets: bool,
    /// Send every delivery through this HTTP(S) proxy (never one from the environment).
    pub proxy: Option<SecretUrl>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry_schedule: RetrySchedule::default(),
            disable_after: Duration::from_secs(3 * 86_400),
            retention: Duration::from_secs(30 * 86_400),
            poll_interval: Duration::from_secs(1),
            concurrency: 64,
            endpoint_concurrency: 8,
            allow_private_targets: false,
            proxy: None,
        }
    }
}

impl DeliveryConfig {
    /// How long a claimed delivery stays reserved for its worker: past it, another worker
    /// (or this one after a restart) takes it over.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }
}
