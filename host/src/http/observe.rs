//! Every request, observed: one INFO line (method, route template, status, duration,
//! request id, the organisation when a key named one) and the HTTP metrics
//! ([`crate::telemetry::http_request`]).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The organisation a request turned out to act for, filled in by the API-key extractors
/// while the request runs (so the log line can name it).
#[derive(Debug, Clone, Default)]
pub struct RequestOrg(Arc<OnceLock<String>>);

impl RequestOrg {
    /// Records the organisation (the first one recorded stays).
    pub fn set(&self, org_id: &str) {
        let _ = self.0.set(org_id.to_owned());
    }
}

/// The middleware: times the request, then logs and counts its answer.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |path| path.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let org = RequestOrg::default();
    request.extensions_mut().insert(org.clone());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    crate::telemetry::http_request(method.as_str(), &route, status, elapsed);
    tracing::info!(
        method = %method,
        route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        request_id,
        org = org.0.get().map_or("-", String::as_str),
        "request"
    );
    response
}
