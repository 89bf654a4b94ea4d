//! HTTP assembly: the REST routers, health probes, the OpenAPI document, fallbacks in the
//! common error shape, and the middleware every request passes (request id, tracing, body
//! limit).
//!
//! [`connections`] serves the assembled app: the accept loop, its timeouts and connection
//! caps; [`openapi`] completes the document with the answers every route can give.

pub mod connections;
pub mod openapi;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Request, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::{admin, api, http, public};

/// Header carrying the request id, in both directions.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete application for `state`, with request bodies up to `body_limit` bytes.
pub fn app(state: AppState, body_limit: usize) -> Router {
    routes()
        .0
        .fallback(|uri: Uri| async move { ApiError::NoRoute(uri.path().to_owned()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::rate_limit::limit_public))
        .layer(axum::middleware::from_fn(http::observe::observe))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::idempotency::idempotency))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeId))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok());
                    tracing::info_span!("request", method = %request.method(),
                        path = %request.uri().path(), request_id = id.unwrap_or("-"))
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// Every route the service answers, before fallbacks, middleware and state, and the OpenAPI
/// document describing the API among them (the spec tests compare the two).
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut doc) =
        api::router().merge(public::router()).merge(admin::router()).split_for_parts();
    openapi::complete(&mut doc);
    let openapi_yaml = doc.to_yaml().expect("the OpenAPI document serializes");
    let openapi_json = doc.to_pretty_json().expect("the OpenAPI document serializes");
    let router = Router::new()
        .merge(api)
        .merge(probe_routes())
        .route(
            "/openapi.yaml",
            get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], openapi_yaml) }),
        )
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], openapi_json) }),
        );
    (router, doc)
}

/// What a `worker` process serves: the probes and `/metrics`; every other path is 404.
pub fn probes(state: AppState) -> Router {
    probe_routes()
        .fallback(|uri: Uri| async move { ApiError::NoRoute(uri.path().to_owned()) })
        .with_state(state)
}

/// Liveness, readiness and metrics, served by every role.
fn probe_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
}

/// The Prometheus text of every metric ([`crate::telemetry`]), the due queues and the
/// database pools read now; 404 when `metrics` is off, 401 without its token if one is set.
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let (enabled, token) = state.metrics;
    if !enabled {
        return Err(ApiError::NoRoute("/metrics".into()));
    }
    if let Some(expected) = token {
        http::auth::check_token(&headers, &expected)?;
    }
    if let Err(err) = crate::outbox::observe_due(&state.store).await {
        tracing::warn!(error = %err, "reading the due queues for /metrics failed");
    }
    state.store.observe_pools();
    let text = crate::telemetry::render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

/// 200 when the database answers, 503 otherwise.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Request ids like `req_…`, unless the client sent its own.
#[derive(Clone, Copy)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&crate::ids::new_id("req")).ok().map(RequestId::new)
    }
}
