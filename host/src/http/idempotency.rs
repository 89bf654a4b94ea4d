//! `Idempotency-Key` on authenticated POSTs: the first answer (status and body) is stored
//! and replayed for 24 hours to any request with the same key, API key and path (marked
//! `Idempotent-Replayed: true`); a repeat while the first still runs gets 409.
//!
//! Only requests that reached their handler as an organisation are recorded. The API key is
//! resolved ([`authenticate`], the extractors' own check) before anything is claimed, so a
//! missing, unknown, revoked or Free-plan key writes nothing and the handler refuses it as
//! always; anonymous public forms are left alone (their keys would be shared across
//! customers). A claim is kept only under the rule of [`keeps`]; otherwise it is released.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::{Resolved, authenticate};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::ids::sha256_hex;
use crate::store::IdempotencyClaim;

/// Request header carrying the client's key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Largest answer kept for replay.
const MAX_STORED_BODY: usize = 4 * 1024 * 1024;

/// The middleware.
pub async fn idempotency(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) =
        request.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned)
    else {
        return next.run(request).await;
    };
    // Without a valid key the request goes on unrecorded: a handler that needs one refuses
    // it exactly as it would without the header, and a public form ignores it.
    let Ok(auth) = authenticate(request.headers(), &state.store).await else {
        return next.run(request).await;
    };
    if key.is_empty() || key.len() > 255 {
        return ApiError::InvalidRequest("Idempotency-Key must be 1 to 255 characters".into())
            .into_response();
    }
    let resolved = Resolved::new(auth);
    let scope = sha256_hex(format!("{}\n{}", resolved.auth().key.id, request.uri().path()));
    match state.store.claim_idempotency_key(&scope, &key).await {
        Ok(IdempotencyClaim::New) => {}
        Ok(IdempotencyClaim::InProgress) => {
            return ApiError::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running",
            )
            .into_response();
        }
        Ok(IdempotencyClaim::Done(status, content_type, body)) => {
            return replay(status, content_type, body);
        }
        Err(err) => return ApiError::Internal(err).into_response(),
    }
    // The handler's extractor takes the key from here, and records whether it accepted it.
    request.extensions_mut().insert(resolved.clone());
    let response = next.run(request).await;
    if !keeps(response.status(), resolved.accepted()) {
        if let Err(err) = state.store.release_idempotency_key(&scope, &key).await {
            tracing::warn!(error = %err, "releasing an idempotency key failed");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_STORED_BODY).await {
        Ok(bytes) => bytes,
        Err(err) => {
            let _ = state.store.release_idempotency_key(&scope, &key).await;
            return ApiError::Internal(anyhow::anyhow!("buffering an idempotent answer: {err}"))
                .into_response();
        }
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let text = String::from_utf8_lossy(&bytes);
    let stored = state
        .store
        .complete_idempotency_key(&scope, &key, parts.status.as_u16(), content_type, &text)
        .await;
    if let Err(err) = stored {
        tracing::warn!(error = %err, "storing an idempotent answer failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The one rule of what is replayed: an answer from a handler that accepted the API key
/// (not a refusal of the key or its scope, an unknown route or method, or a public route),
/// unless it asks to try again (5xx, 429) — then a retry runs afresh.
fn keeps(status: StatusCode, accepted: bool) -> bool {
    accepted && !status.is_server_error() && status != StatusCode::TOO_MANY_REQUESTS
}

fn replay(status: u16, content_type: Option<String>, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    if let Some(value) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
