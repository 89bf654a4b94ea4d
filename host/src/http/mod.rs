//! The HTTP edge shared by the REST API ([`crate::api`]) and the customer-facing API
//! ([`crate::public`]): the state every handler reaches, THE error type with its one status
//! mapping, the extractors (JSON, path, query; API-key authentication), idempotency,
//! input hygiene, pagination, what bounds requests and streams, and the file answers.

pub mod auth;
pub mod body_deadline;
pub mod client_ip;
pub mod error;
pub mod extract;
pub mod hygiene;
pub mod idempotency;
pub mod observe;
pub mod pagination;
pub mod rate_limit;
pub mod slots;
mod state;

pub use state::AppState;

/// A stored organisation logo as an answer: its media type, `ETag` and `cache_control`,
/// and `nosniff` so browsers never read it as anything but an image.
pub fn image_response(
    logo: crate::store::OrgLogo,
    cache_control: &'static str,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, logo.content_type),
            (header::ETAG, format!("\"{}\"", logo.sha256)),
            (header::CACHE_CONTROL, cache_control.to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        logo.image,
    )
        .into_response()
}

/// An inline `application/pdf` answer named after the quote `number`.
pub fn pdf_response(number: &str, pdf: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let disposition = format!("inline; filename=\"{number}.pdf\"");
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response()
}

/// A file's bytes as a request or answer body (uploads, the logo, the quote PDF): a binary
/// string in the OpenAPI document, which generated clients read and send as a file.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);
