//! `PUT/GET/DELETE /api/v1/organization/logo`: the organisation's logo, uploaded as a raw
//! PNG or JPEG body and stored in the database. The quote PDF and the configurator page
//! show it; nothing is fetched from a URL when they render.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::{AppState, image_response};
use crate::pdf::{LOGO_TYPES, MAX_LOGO_BYTES, check_logo};
use crate::store::OrgLogo;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_logo, get_logo, delete_logo))
        .layer(DefaultBodyLimit::max(MAX_LOGO_BYTES))
}

/// The stored logo's description.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoView {
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
    /// Size of the file.
    pub size_bytes: usize,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Hex SHA-256 of the file (also its `ETag`).
    pub sha256: String,
    /// Epoch milliseconds.
    pub updated_at: i64,
    /// Where customers' pages load it from (no API key needed).
    pub public_url: String,
}

/// Upload the organisation's logo: the raw image as the body, `Content-Type: image/png` or
/// `image/jpeg`, at most 512 KiB and 2048×2048 pixels. Replaces any earlier logo.
#[utoipa::path(put, path = "/api/v1/organization/logo", tag = "organization",
    request_body(description = "A PNG or JPEG file",
        content((crate::http::FileBytes = "image/png"), (crate::http::FileBytes = "image/jpeg"))),
    responses((status = 200, body = LogoView), super::AuthErrors,
        (status = 413, description = "Larger than 512 KiB", body = crate::http::error::ErrorBody),
        (status = 415, description = "Neither image/png nor image/jpeg", body = crate::http::error::ErrorBody),
        (status = 422, description = "Not a readable image of that type, or too many pixels", body = crate::http::error::ErrorBody)))]
async fn put_logo(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<Json<LogoView>> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !LOGO_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::UnsupportedMediaType(
            "upload the logo as image/png or image/jpeg".into(),
        ));
    }
    let image = Bytes::from_request(request, &state).await?;
    let (width, height) =
        check_logo(&content_type, &image).map_err(|why| ApiError::invalid_field("logo", why))?;
    let sha256 = hex::encode(Sha256::digest(&image));
    let logo = state.store.set_org_logo(&auth.org.id, &content_type, &image, &sha256).await?;
    Ok(Json(view(&state, &auth.org.slug, logo, width, height)))
}

fn view(state: &AppState, slug: &str, logo: OrgLogo, width: u32, height: u32) -> LogoView {
    LogoView {
        content_type: logo.content_type,
        size_bytes: logo.image.len(),
        width,
        height,
        sha256: logo.sha256,
        updated_at: logo.updated_at,
        public_url: format!("{}/public/v1/orgs/{slug}/logo", state.public_url),
    }
}

/// The organisation's logo file.
#[utoipa::path(get, path = "/api/v1/organization/logo", tag = "organization",
    responses((status = 200, description = "The image", content((crate::http::FileBytes = "image/png"),
            (crate::http::FileBytes = "image/jpeg"))), super::AuthErrors,
        (status = 404, description = "No logo uploaded", body = crate::http::error::ErrorBody)))]
async fn get_logo(auth: ApiAuth, State(state): State<AppState>) -> ApiResult<Response> {
    let logo = state.store.org_logo(&auth.org.id).await?.ok_or(ApiError::NotFound("logo"))?;
    Ok(image_response(logo, "private, no-cache"))
}

/// Remove the organisation's logo.
#[utoipa::path(delete, path = "/api/v1/organization/logo", tag = "organization",
    responses((status = 204, description = "Removed"), super::AuthErrors,
        (status = 404, description = "No logo uploaded", body = crate::http::error::ErrorBody)))]
async fn delete_logo(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
) -> ApiResult<StatusCode> {
    match state.store.delete_org_logo(&auth.org.id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound("logo")),
    }
}
