//! What validation reports: a problem at a JSON path ([`FieldError`]: catalog, breakdown and
//! filter validation; the HTTP edge answers it as 422 `validation_failed`), a setting that
//! is not valid ([`ConfigError`]), and the checks several layers share.

use serde::Serialize;

/// A problem with one field of a request, named by its JSON path (e.g. `configuration.width`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the offending value, relative to the request body (for a path or query
    /// parameter: its name).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }
}

/// A configuration value that failed validation, named by its setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration `{setting}`: {message}")]
pub struct ConfigError {
    /// Setting name as in the TOML file (`database_url`, `listen`, …).
    pub setting: &'static str,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// A problem with `setting`.
    pub fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self { setting, message: message.into() }
    }
}

/// A plausible email address: one `@` with text on both sides, no spaces, at most 254 bytes.
pub fn is_email(text: &str) -> bool {
    let mut parts = text.split('@');
    matches!((parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.'))
        && text.len() <= 254
        && !text.contains(char::is_whitespace)
}
