//! Extractors whose rejections speak the common error shape, and which refuse text the store
//! cannot keep ([`super::hygiene`]) before any handler sees it.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::hygiene;
use crate::http::error::ApiError;

/// `axum::Json` with [`ApiError`] rejections (400 malformed, 422 wrong shape with its path,
/// 422 a NUL in a string with its path, 413 too large, 415 wrong content type).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(request.headers()) {
            return Err(JsonRejection::from(
                axum::extract::rejection::MissingJsonContentType::default(),
            )
            .into());
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|err| ApiError::from(JsonRejection::from(err)))?;
        hygiene::check_json(&body)?;
        require_object(&body)?;
        let axum::Json(value) = axum::Json::from_bytes(&body)?;
        Ok(Self(value))
    }
}

/// Every request body is a JSON object: serde would also read a struct from an array of
/// its fields in order (`[null, null]`), which no client means and the document does not
/// allow. JSON of another kind is 422; text that is not JSON is left to the parser (400).
fn require_object(body: &[u8]) -> Result<(), ApiError> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first == Some(&b'{') || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return Ok(());
    }
    Err(ApiError::invalid_field("", "the body must be a JSON object"))
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `application/json` or `application/*+json`, exactly as `axum::Json` decides.
fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|name| name == "json"))
        })
}

/// `axum::extract::Path` with [`ApiError`] rejections; a parameter decoding to a NUL is a 422
/// naming it.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if hygiene::may_hold_nul(parts.uri.path()) {
            // Without parameters (or with invalid UTF-8) `Path` below answers for itself.
            if let Ok(params) = RawPathParams::from_request_parts(parts, state).await {
                hygiene::check_path_params(params.iter())?;
            }
        }
        let axum::extract::Path(value) =
            axum::extract::Path::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Query` with [`ApiError`] rejections; a name or value decoding to a NUL is
/// a 422 naming it.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        hygiene::check_query(parts.uri.query().unwrap_or_default())?;
        let axum::extract::Query(value) =
            axum::extract::Query::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// For `Option<Option<T>>` PATCH fields: absent → `None`, `null` → `Some(None)`.
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// A JSON body that may be absent: empty means `T::default()`; otherwise errors map like
/// [`Json`]'s (400 malformed, 422 with the path, a NUL in a string included).
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    hygiene::check_json(body)?;
    require_object(body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            ApiError::invalid_field(
                if path == "." { String::new() } else { path },
                inner.to_string(),
            )
        } else {
            ApiError::MalformedJson(inner.to_string())
        }
    })
}
