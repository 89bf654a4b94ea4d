//! What every handler can reach.

use std::sync::Arc;

use crate::http::client_ip::TrustedProxies;
use crate::http::rate_limit::RequestLimits;
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
    /// Request rate limits: per API key, per client on public routes and the lead form.
    pub limits: Arc<RequestLimits>,
    /// Whose forwarding headers name the client ([`super::client_ip`]).
    pub trusted_proxies: Arc<TrustedProxies>,
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
