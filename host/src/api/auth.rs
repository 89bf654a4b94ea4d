//! API-key authentication. Tenant scope lives in the types: every tenant handler takes
//! [`ApiAuth`] (any valid key of an org with `apiAccess`) or [`WriteAccess`] (a
//! `read_write` key), and passes `auth.org.id` to every store call.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::ApiError;
use crate::orgs::{ApiKey, Org, Scope};

/// A request authenticated by an API key of an organisation with API access.
#[derive(Debug, Clone)]
pub struct ApiAuth {
    /// The key's organisation: the tenant of this request.
    pub org: Org,
    /// The key used.
    pub key: ApiKey,
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer_token(parts)?;
        let (key, org) = state
            .store
            .api_key_by_secret(secret)
            .await?
            .ok_or(ApiError::Unauthorized("unknown API key"))?;
        if key.revoked_at.is_some() {
            return Err(ApiError::Unauthorized("this API key has been revoked"));
        }
        if !org.features().api_access {
            return Err(ApiError::PlanRequired("Pro"));
        }
        Ok(Self { org, key })
    }
}

/// `Option<ApiAuth>`: `None` without an `Authorization` header; a header that is sent must
/// be valid.
impl axum::extract::OptionalFromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, state).await.map(Some)
    }
}

/// An [`ApiAuth`] whose key has the `read_write` scope.
#[derive(Debug, Clone)]
pub struct WriteAccess(pub ApiAuth);

impl FromRequestParts<AppState> for WriteAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = ApiAuth::from_request_parts(parts, state).await?;
        match auth.key.scope {
            Scope::ReadWrite => Ok(Self(auth)),
            Scope::Read => Err(ApiError::InsufficientScope),
        }
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("missing `Authorization: Bearer <API key>` header"))?;
    let value =
        header.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(ApiError::Unauthorized("expected `Authorization: Bearer <API key>`"))?;
    Ok(token)
}
