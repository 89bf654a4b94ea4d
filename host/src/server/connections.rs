//! What any client can hold open, and the accept loop that enforces it.
//!
//! The service serves HTTP/1.1 with hyper directly rather than through `axum::serve`, which
//! sets no timer (so hyper's header-read timeout never applies: an idle or half-sent
//! connection stayed open forever) and accepts until the process runs out of descriptors.
//! Here:
//!
//! - **One timeout bounds every wait for a request head**: hyper starts the timer whenever a
//!   connection waits for a head — right after it opens and again after each response on a
//!   kept-alive connection — so `header_read_timeout` is the idle keep-alive timeout too; a
//!   separate keep-alive setting could not be told apart from it. A response being streamed
//!   (an SSE price stream) is not waiting for a head and is not cut.
//! - **A request body must arrive within `request_body_timeout`** of its head
//!   ([`crate::http::body_deadline`]); bodiless requests (the SSE stream's GET) carry no deadline.
//! - **Open connections are capped** in total and per client address (IPv6 per /64, what
//!   one host is usually given) ([`Slots`]). A connection over a cap is closed at once,
//!   unread, so the loop never waits for a slot and never runs the process out of
//!   descriptors; `/healthz` stays answerable under thousands of hostile sockets.
//! - **The descriptor limit is raised** to the hard limit at start (the `rlimit` crate), and
//!   the default total cap is derived from it ([`default_max_connections`]).
//!
//! Handlers still get [`ConnectInfo<SocketAddr>`]; shutdown stops accepting, lets in-flight
//! requests finish (hyper-util's `GracefulShutdown`) and closes idle connections. HTTP/2 is
//! not served (it was not compiled in before either): every client here speaks HTTP/1.1, and
//! h2c would need its own stream and ping bounds.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::http::body_deadline::DeadlineBody;
use crate::http::slots::Slots;
use crate::validation::ConfigError;

/// Descriptors kept for everything but client connections at the least: database pools and
/// their files, outgoing webhook and SMTP connections, plugin artifacts, the runtime's own.
pub const RESERVED_DESCRIPTORS: u64 = 256;
/// The derived connection cap never exceeds this (memory: each open connection holds a task
/// and hyper's buffers, a few KiB when idle, up to [`MAX_BUFFER_BYTES`] under a maximal
/// request head: 1 GiB at the ceiling).
pub const DEFAULT_MAX_CONNECTIONS_CEILING: usize = 16_384;
/// The largest request head (431 above), and about what hyper buffers per connection at
/// most; hyper's own default, ~400 KiB, would let each half-sent head hold six times as much.
pub const MAX_BUFFER_BYTES: usize = 64 * 1024;

/// Bounds on what clients can hold open (configuration; see the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest wait for a complete request head: on a new connection and, between
    /// requests, on a kept-alive one (the idle keep-alive timeout).
    pub header_read_timeout: Duration,
    /// Longest a request body may take to arrive, counted from its head.
    pub request_body_timeout: Duration,
    /// Open connections at most; `None` derives it from the descriptor limit.
    pub max_connections: Option<usize>,
    /// Open connections per client address (IPv6: per /64).
    pub max_connections_per_ip: usize,
    /// Open price streams at most; `None`: half the connection cap.
    pub max_sse_streams: Option<usize>,
    /// Open price streams per configuration session.
    pub max_sse_streams_per_session: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_body_timeout: Duration::from_secs(60),
            max_connections: None,
            max_connections_per_ip: 256,
            max_sse_streams: None,
            max_sse_streams_per_session: 8,
        }
    }
}

/// The caps in force: [`ConnectionLimits`] with the derived values worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per client address.
    pub max_connections_per_ip: usize,
    /// Open price streams at most.
    pub max_sse_streams: usize,
    /// Open price streams per session.
    pub max_sse_streams_per_session: usize,
}

impl ConnectionLimits {
    /// The caps for a process that may open `descriptors` files; a configured connection
    /// cap that leaves fewer than [`RESERVED_DESCRIPTORS`] for the rest is refused.
    pub fn caps(&self, descriptors: u64) -> Result<Caps, ConfigError> {
        let allowed = descriptors.saturating_sub(RESERVED_DESCRIPTORS);
        let max_connections = match self.max_connections {
            Some(max) if max as u64 > allowed => {
                return Err(ConfigError {
                    setting: "max_connections",
                    message: format!(
                        "{max} connections do not fit the descriptor limit {descriptors} \
                         (at most {allowed}; raise `ulimit -n` or lower the cap)"
                    ),
                });
            }
            Some(max) => max,
            None => default_max_connections(descriptors),
        };
        let max_sse_streams = self.max_sse_streams.unwrap_or(max_connections.div_ceil(2));
        if max_sse_streams > max_connections {
            return Err(ConfigError {
                setting: "max_sse_streams",
                message: format!(
                    "{max_sse_streams} is more than max_connections ({max_connections})"
                ),
            });
        }
        Ok(Caps {
            max_connections,
            max_connections_per_ip: self.max_connections_per_ip.min(max_connections),
            max_sse_streams,
            max_sse_streams_per_session: self.max_sse_streams_per_session,
        })
    }
}

/// The connection cap for a descriptor limit: a quarter of the descriptors (at least
/// [`RESERVED_DESCRIPTORS`]) stay for everything else, connections get the rest, at most
/// [`DEFAULT_MAX_CONNECTIONS_CEILING`] (and at least one).
pub fn default_max_connections(descriptors: u64) -> usize {
    let reserved = RESERVED_DESCRIPTORS.max(descriptors / 4);
    let rest = descriptors.saturating_sub(reserved).max(1);
    usize::try_from(rest).unwrap_or(usize::MAX).min(DEFAULT_MAX_CONNECTIONS_CEILING)
}

/// Raises this process's open-file soft limit to its hard limit and returns the limit now
/// in force (unchanged if it cannot be raised: the caps are derived from what is there).
pub fn raise_descriptor_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            let (soft, _) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
            tracing::warn!(error = %err, limit = soft, "cannot raise the open-file limit");
            soft
        }
    }
}

/// After an accept error that is not about one connection (e.g. out of descriptors, which
/// the caps leave room against), pause so the loop does not spin on a failing `accept`.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` under `limits` and `caps` until `shutdown` resolves; then
/// stops accepting, lets in-flight requests finish and returns once every connection has
/// closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    caps: Caps,
    shutdown: impl Future<Output = ()>,
) {
    let open = Slots::new(caps.max_connections, caps.max_connections_per_ip);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(MAX_BUFFER_BYTES)
        .max_buf_size(MAX_BUFFER_BYTES);
    let body_timeout = limits.request_body_timeout;
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                accept_failed(err).await;
                continue;
            }
        };
        let Ok(slot) = open.try_acquire(client_key(peer.ip())) else {
            // Over a cap: dropping the stream closes it before anything is read.
            tracing::debug!(%peer, "connection refused: connection cap reached");
            continue;
        };
        let app = app
            .clone()
            .map_request(move |request: Request<Incoming>| prepare(request, peer, body_timeout));
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app)));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                // Timeouts, resets, malformed requests: the client's business, not an error.
                tracing::debug!(%peer, error = %err, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// What handlers see of a request: the client's address, the body under its deadline.
fn prepare(request: Request<Incoming>, peer: SocketAddr, body_timeout: Duration) -> Request<Body> {
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ConnectInfo(peer));
    let body = if body.is_end_stream() {
        Body::new(body)
    } else {
        Body::new(DeadlineBody::new(body, body_timeout))
    };
    Request::from_parts(parts, body)
}

async fn accept_failed(err: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return; // that one connection is gone; the next may be fine
    }
    tracing::error!(error = %err, "accept failed");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// The address a per-client cap counts: IPv4 (also when mapped into IPv6) as it is, IPv6
/// by its /64 prefix, since one host usually has a whole /64 to pick addresses from.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_descriptors_for_the_rest() {
        assert_eq!(default_max_connections(512), 256);
        assert_eq!(default_max_connections(1024), 768);
        assert_eq!(default_max_connections(20_000), 15_000);
        assert_eq!(default_max_connections(1 << 20), DEFAULT_MAX_CONNECTIONS_CEILING);
        assert_eq!(default_max_connections(u64::MAX), DEFAULT_MAX_CONNECTIONS_CEILING);
        assert_eq!(default_max_connections(100), 1);
    }

    #[test]
    fn caps_follow_the_descriptor_limit_and_refuse_what_does_not_fit() {
        let limits = ConnectionLimits::default();
        let caps = limits.caps(1024).unwrap();
        assert_eq!((caps.max_connections, caps.max_sse_streams), (768, 384));
        assert_eq!(caps.max_connections_per_ip, 256);
        let err = ConnectionLimits { max_connections: Some(900), ..limits }.caps(1024).unwrap_err();
        assert_eq!(err.setting, "max_connections");
        let caps = ConnectionLimits { max_connections: Some(100), ..limits }.caps(1024).unwrap();
        assert_eq!((caps.max_connections_per_ip, caps.max_sse_streams), (100, 50));
        let too_many =
            ConnectionLimits { max_connections: Some(100), max_sse_streams: Some(101), ..limits };
        assert_eq!(too_many.caps(1024).unwrap_err().setting, "max_sse_streams");
    }

    #[test]
    fn clients_are_counted_by_ipv4_address_and_ipv6_prefix() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(client_key(ip("10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(client_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2:bbbb::9")), client_key(ip("2001:db8:1:2::77")));
    }
}
