//! Request rate limits (GCRA, the `governor` crate): per API key on REST v1, per client
//! address on the public routes, and a tighter one per client address on the lead form.
//! A refusal is 429 `rate_limited` with `Retry-After`. The client address is the TCP peer,
//! or what a trusted proxy forwarded ([`super::client_ip`]).

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use super::client_ip::ClientIp;
use super::error::ApiError;

/// Allows `n` requests per minute per key, in bursts of up to `n`.
#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

/// Checks between two sweeps of keys idle long enough to be full again.
const SWEEP_EVERY: u64 = 4096;

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `per_minute` requests per minute per key (at least 1).
    pub fn per_minute(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
        Self { limiter: DefaultKeyedRateLimiter::keyed(quota), checks: AtomicU64::new(0) }
    }

    /// Counts a request of `key`: 429 with the wait until it would be allowed, when over.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Keys whose state is back to a full burst carry nothing: forget them, so the
            // table stays as large as the set of recently active clients.
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            ApiError::RateLimited(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }
}

/// The limits of a server.
#[derive(Debug)]
pub struct RequestLimits {
    /// REST v1 requests per API key.
    pub api_keys: RateLimiter<String>,
    /// Public requests (`/public/…`, `/configurator/…`) per client address.
    pub public: RateLimiter<std::net::IpAddr>,
    /// Lead form submissions per client address.
    pub leads: RateLimiter<std::net::IpAddr>,
}

/// Middleware: the per-client limit of the public routes.
pub async fn limit_public(
    State(state): State<AppState>,
    client: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if (path.starts_with("/public/") || path.starts_with("/configurator/"))
        && let Err(refused) = state.limits.public.check(&client.0)
    {
        return refused.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_key_separately_and_says_how_long_to_wait() {
        let limiter = RateLimiter::per_minute(2);
        assert!(limiter.check(&"a").is_ok() && limiter.check(&"a").is_ok());
        match limiter.check(&"a") {
            Err(ApiError::RateLimited(wait)) => {
                assert!(wait.as_secs() > 0 && wait.as_secs() <= 30, "{wait:?}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(limiter.check(&"b").is_ok());
    }
}
