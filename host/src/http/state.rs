//! What every handler can reach.

use std::sync::Arc;

use crate::http::rate_limit::RateLimiter;
use crate::outbox::Sender;
use crate::pricing::Pricer;
use crate::store::Store;

/// What every handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Base of every URL the service hands out (callback and quote view links).
    pub public_url: Arc<str>,
    /// Whether webhook targets may be on loopback and private networks (development).
    pub allow_private_webhook_targets: bool,
    /// Signs and sends webhook requests (worker and test sends).
    pub sender: Sender,
    /// Per-client limit of the public lead form.
    pub lead_limiter: Arc<RateLimiter>,
    /// The live pricing loop.
    pub pricer: Pricer,
    /// Wasm pricing plugins: versions, compilation, runs.
    pub plugins: crate::plugins::Plugins,
    /// Outgoing mail.
    pub mailer: crate::mail::Mailer,
    /// True once shutdown has begun (long-lived responses end on it).
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Open price streams, by session id (capped per session and in total).
    pub streams: Arc<super::slots::Slots<String>>,
    /// SHA-256 of the operator token; `None`: the operator API is off.
    pub operator_token_sha256: Option<[u8; 32]>,
    /// Whether `/metrics` is served, and the SHA-256 of the token it then requires.
    pub metrics: (bool, Option<[u8; 32]>),
}
