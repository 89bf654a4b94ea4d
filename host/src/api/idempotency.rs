//! `Idempotency-Key` on authenticated POSTs: the first answer (status and body) is stored
//! and replayed for 24 hours to any request with the same key, credentials and path (marked
//! `Idempotent-Replayed: true`); a repeat while the first still runs gets 409. Answers with
//! a 5xx status are not kept, so a retry runs again. Anonymous requests (public forms) are
//! left alone: their keys would be shared across customers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;
use crate::ids::sha256_hex;
use crate::store::IdempotencyClaim;

/// Request header carrying the client's key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Largest answer kept for replay.
const MAX_STORED_BODY: usize = 4 * 1024 * 1024;

/// The middleware.
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) =
        request.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned)
    else {
        return next.run(request).await;
    };
    if key.is_empty() || key.len() > 255 {
        return ApiError::InvalidRequest("Idempotency-Key must be 1 to 255 characters".into())
            .into_response();
    }
    // Only requests with credentials: anonymous public forms share paths across customers.
    let Some(credentials) =
        request.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec())
    else {
        return next.run(request).await;
    };
    let scope =
        sha256_hex(format!("{}\n{}", String::from_utf8_lossy(&credentials), request.uri().path()));
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
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_STORED_BODY).await {
        Ok(bytes) => bytes,
        Err(err) => {
            let _ = state.store.release_idempotency_key(&scope, &key).await;
            return ApiError::Internal(anyhow::anyhow!("buffering an idempotent answer: {err}"))
                .into_response();
        }
    };
    let stored = if parts.status.is_server_error() {
        state.store.release_idempotency_key(&scope, &key).await
    } else {
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let text = String::from_utf8_lossy(&bytes);
        state
            .store
            .complete_idempotency_key(&scope, &key, parts.status.as_u16(), content_type, &text)
            .await
    };
    if let Err(err) = stored {
        tracing::warn!(error = %err, "storing an idempotent answer failed");
    }
    Response::from_parts(parts, Body::from(bytes))
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
