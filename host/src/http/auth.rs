//! API-key authentication. Tenant scope lives in the types: every tenant handler takes
//! [`ApiAuth`] (any valid key of an org with `apiAccess`) or [`WriteAccess`] (a
//! `read_write` key), and passes `auth.org.id` to every store call.
//!
//! [`authenticate`] is the one check of a key. A key already resolved for this request (by
//! the idempotency middleware, before it claims an `Idempotency-Key`) travels in the
//! request's extensions as [`Resolved`]: the extractors take it from there instead of
//! reading it again, and record on it whether they accepted it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::observe::RequestOrg;
use crate::orgs::{ApiKey, Org, Scope};
use crate::store::Store;

/// A request authenticated by an API key of an organisation with API access.
#[derive(Debug, Clone)]
pub struct ApiAuth {
    /// The key's organisation: the tenant of this request.
    pub org: Org,
    /// The key used.
    pub key: ApiKey,
}

/// The key of `headers` (`Authorization: Bearer <key>`): 401 when missing, unknown or
/// revoked, 403 `organization_disabled` when an operator disabled its organisation, 403
/// `plan_required` when its organisation lacks `apiAccess`.
pub async fn authenticate(headers: &HeaderMap, store: &Store) -> Result<ApiAuth, ApiError> {
    let secret = bearer_token(headers)?;
    let (key, org) =
        store.api_key_by_secret(secret).await?.ok_or(ApiError::Unauthorized("unknown API key"))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::Unauthorized("this API key has been revoked"));
    }
    if !org.is_active() {
        return Err(ApiError::OrgDisabled);
    }
    if !org.features().api_access {
        return Err(ApiError::PlanRequired("Pro"));
    }
    Ok(ApiAuth { org, key })
}

/// A key [`authenticate`]d before the handler ran, in the request's extensions. Clones share
/// whether a handler's extractor accepted it: [`ApiAuth`] always, [`WriteAccess`] only with
/// the `read_write` scope.
#[derive(Debug, Clone)]
pub struct Resolved {
    auth: ApiAuth,
    accepted: Arc<AtomicBool>,
}

impl Resolved {
    /// Carries `auth`, not yet accepted.
    pub fn new(auth: ApiAuth) -> Self {
        Self { auth, accepted: Arc::default() }
    }

    /// The resolved key.
    pub fn auth(&self) -> &ApiAuth {
        &self.auth
    }

    /// Whether a handler's extractor accepted the key: the request reached its handler as
    /// this key's organisation.
    pub fn accepted(&self) -> bool {
        self.accepted.load(Ordering::Acquire)
    }
}

/// The request's key: the one [`Resolved`] for it, else looked up.
async fn resolve(parts: &Parts, state: &AppState) -> Result<ApiAuth, ApiError> {
    match parts.extensions.get::<Resolved>() {
        Some(resolved) => Ok(resolved.auth.clone()),
        None => authenticate(&parts.headers, &state.store).await,
    }
}

/// Records that an extractor accepted the request's key, and for which organisation.
fn accept(parts: &Parts, auth: &ApiAuth) {
    if let Some(resolved) = parts.extensions.get::<Resolved>() {
        resolved.accepted.store(true, Ordering::Release);
    }
    if let Some(org) = parts.extensions.get::<RequestOrg>() {
        org.set(&auth.org.id);
    }
}

/// Checks `Authorization: Bearer <token>` against the SHA-256 of the configured token, in
/// constant time (the operator API, a protected `/metrics`): 401 otherwise.
pub fn check_token(headers: &HeaderMap, expected_sha256: &[u8; 32]) -> Result<(), ApiError> {
    let token = bearer_token(headers)?;
    let hash = Sha256::digest(token.as_bytes());
    if bool::from(hash.as_slice().ct_eq(expected_sha256)) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("unknown token"))
    }
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = resolve(parts, state).await?;
        state.limits.api_keys.check(&auth.key.id)?;
        accept(parts, &auth);
        Ok(auth)
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
        let auth = resolve(parts, state).await?;
        state.limits.api_keys.check(&auth.key.id)?;
        match auth.key.scope {
            Scope::ReadWrite => {
                accept(parts, &auth);
                Ok(Self(auth))
            }
            Scope::Read => Err(ApiError::InsufficientScope),
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let header = headers
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
