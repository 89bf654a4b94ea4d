//! The one error type of the HTTP edge and its one mapping to status and code.
//!
//! Every failure a client can see leaves through [`ApiError`], so the body always has the
//! shape `{"error": {"code", "message", "details"}}`. Internal errors are logged in full and
//! answered opaquely; extractor rejections (JSON, path, query) are converted here too.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::header::{CONNECTION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::body_deadline::BodyTimedOut;
use crate::services;
use crate::validation::FieldError;

/// Everything that can go wrong at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No, unknown or revoked API key.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The organisation's plan lacks the feature (e.g. `apiAccess`).
    #[error("this feature requires the {0} plan or higher")]
    PlanRequired(&'static str),
    /// The key may read but this request writes.
    #[error("this API key is read-only; the request needs the read_write scope")]
    InsufficientScope,
    /// An operator has disabled the key's organisation.
    #[error("this organisation is disabled; contact the operator of this service")]
    OrgDisabled,
    /// Unknown id, or an id that belongs to another organisation.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No such route.
    #[error("no route for {0}")]
    NoRoute(String),
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A malformed query string or path parameter.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Well-formed but semantically invalid; each field error names its JSON path.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The request conflicts with the current state (`code` says how).
    #[error("{message}")]
    Conflict {
        /// Machine-readable reason, e.g. `callback_already_used`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The body exceeds the configured limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body has an unsupported content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many requests from this client or key; retry after the duration.
    #[error("rate limit exceeded; retry in {} s", retry_after_secs(*.0))]
    RateLimited(std::time::Duration),
    /// The request body did not arrive within `request_body_timeout`.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// The session already has as many open price streams as one session may.
    #[error("this session already has {0} open price streams; close one first")]
    TooManyStreams(usize),
    /// The service holds as many open price streams as it allows; try again later.
    #[error("too many open price streams on this server; try again later")]
    StreamCapacityReached,
    /// The mail server refused or could not be reached; nothing was changed.
    #[error("mail delivery failed: {0}")]
    MailFailed(String),
    /// A bug or an infrastructure failure; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A conflict with a machine-readable code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    /// A validation failure of a single field.
    pub fn invalid_field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(path, message)])
    }

    /// The status and the stable snake_case code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::PlanRequired(_) => (StatusCode::FORBIDDEN, "plan_required"),
            Self::InsufficientScope => (StatusCode::FORBIDDEN, "insufficient_scope"),
            Self::OrgDisabled => (StatusCode::FORBIDDEN, "organization_disabled"),
            Self::NotFound(_) | Self::NoRoute(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::TooManyStreams(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
            Self::StreamCapacityReached => {
                (StatusCode::SERVICE_UNAVAILABLE, "stream_capacity_reached")
            }
            Self::MailFailed(_) => (StatusCode::BAD_GATEWAY, "mail_delivery_failed"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (message, details) = match &self {
            Self::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                ("internal server error".to_owned(), None)
            }
            Self::Validation(errors) => {
                (self.to_string(), Some(ErrorDetails { errors: errors.clone() }))
            }
            other => (other.to_string(), None),
        };
        let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message, details } };
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(self, Self::PayloadTooLarge | Self::RequestTimeout) {
            // The rest of the body is never read, so this connection cannot carry
            // another request: saying so makes clients open a fresh one rather than race
            // its close with their next request.
            response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if let Self::RateLimited(wait) = self {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if BodyTimedOut::caused(&rejection) {
            return Self::RequestTimeout;
        }
        match rejection {
            JsonRejection::JsonDataError(err) => {
                Self::Validation(vec![field_error(&source_text(&err))])
            }
            JsonRejection::JsonSyntaxError(err) => Self::MalformedJson(source_text(&err)),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "expected a request with `Content-Type: application/json`".into(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other => Self::InvalidRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::InvalidRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::InvalidRequest(rejection.body_text())
    }
}

/// A raw body (an upload) that could not be read: too large, too slow, or broken.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else if BodyTimedOut::caused(&rejection) {
            Self::RequestTimeout
        } else {
            Self::InvalidRequest(rejection.body_text())
        }
    }
}

impl From<services::Error> for ApiError {
    fn from(err: services::Error) -> Self {
        match err {
            services::Error::NotFound(what) => Self::NotFound(what),
            services::Error::Invalid(errors) => Self::Validation(errors),
            services::Error::Conflict { code, message } => Self::Conflict { code, message },
            services::Error::MailFailed(reason) => Self::MailFailed(reason),
            services::Error::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(err.into())
    }
}

/// serde's message with its JSON path (`configuration.width: invalid type…`), without axum's
/// "Failed to deserialize…" preamble.
fn source_text(err: &dyn std::error::Error) -> String {
    err.source().map_or_else(|| err.to_string(), ToString::to_string)
}

/// Splits serde_path_to_error's `path: message` (no prefix for the document root).
fn field_error(text: &str) -> FieldError {
    // serde_json appends the position; the path already says where.
    let text = text.rsplit_once(" at line ").map_or(text, |(message, _)| message);
    match text.split_once(": ") {
        Some((path, message)) if !path.contains(' ') => {
            FieldError::new(if path == "." { "" } else { path }, message)
        }
        _ => FieldError::new("", text),
    }
}

/// Whole seconds to wait, at least one (`Retry-After`).
fn retry_after_secs(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// The error body, for the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Inside [`ErrorBody`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `validation_failed`, `plan_required`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// For `validation_failed`: every problem found; null for every other code.
    pub details: Option<ErrorDetails>,
}

/// The `details` of a `validation_failed` error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetails {
    /// Every problem at once, each named by its JSON path (or parameter name).
    pub errors: Vec<FieldError>,
}
