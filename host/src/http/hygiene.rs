//! Input hygiene: a request carrying text the store cannot keep on every backend (see
//! [`crate::store::text`]) is refused with 422 `validation_failed` before its handler runs,
//! on SQLite exactly as on Postgres. Each error names where the text was: the JSON path in a
//! body, the parameter's name in a path or query string.
//!
//! The extractors of [`super::extract`] call these checks, so every handler taking `Json`,
//! `Path` or `Query` (or reading an optional body through `optional_json`) is covered. They
//! cost a byte scan on the hot path: NUL can only appear in valid JSON as the escape
//! `\u0000` (a raw one is a syntax error), and in a URL only as `%00`; only when the scan
//! finds one is the text parsed again to say where.

use std::fmt::Write as _;

use memchr::memmem;
use serde_json::Value;

use crate::http::error::ApiError;
use crate::store::text::{is_storable, storable};
use crate::validation::FieldError;

/// What every error of this module says.
const MESSAGE: &str = "must not contain the NUL character (U+0000)";
/// The most offending strings one answer names.
const MAX_REPORTED: usize = 20;

/// Refuses a JSON body with a NUL in any string or object key (422, one error per string).
pub fn check_json(body: &[u8]) -> Result<(), ApiError> {
    if !has_nul_escape(body) {
        return Ok(());
    }
    // Rare: parse once more, only to name the paths. A body that does not parse is not
    // JSON at all, whatever the handler expects.
    let value: Value =
        serde_json::from_slice(body).map_err(|err| ApiError::MalformedJson(err.to_string()))?;
    let mut errors = Vec::new();
    collect(&value, &mut String::new(), &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// Whether `url_text` (a path or a query string) may decode to a NUL: cheap enough to ask of
/// every request before looking at its parameters.
pub fn may_hold_nul(url_text: &str) -> bool {
    memmem::find(url_text.as_bytes(), b"%00").is_some()
}

/// Refuses decoded path parameters `(name, value)` holding a NUL.
pub fn check_path_params<'a>(
    params: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = params
        .filter(|(_, value)| !is_storable(value))
        .map(|(name, _)| FieldError::new(name, format!("path parameter {MESSAGE}")))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// Refuses a query string whose decoded names or values hold a NUL.
pub fn check_query(query: &str) -> Result<(), ApiError> {
    if !may_hold_nul(query) {
        return Ok(());
    }
    let errors: Vec<FieldError> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, value)| !is_storable(name) || !is_storable(value))
        .take(MAX_REPORTED)
        .map(|(name, _)| FieldError::new(storable(&name), format!("query parameter {MESSAGE}")))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

/// Whether `body` holds the escape `\u0000`: a match counts only when its backslash starts an
/// escape, i.e. the run of backslashes ending with it is odd (`\\u0000` is a backslash, then
/// the letters `u0000`).
fn has_nul_escape(body: &[u8]) -> bool {
    memmem::find_iter(body, br"\u0000").any(|at| {
        let escaped_before = body[..at].iter().rev().take_while(|&&byte| byte == b'\\').count();
        escaped_before % 2 == 0
    })
}

/// Pushes the path of every string or key under `value` that holds a NUL (at most
/// [`MAX_REPORTED`]). Paths read like the deserializer's: `lineItems[0].description`; a key
/// holding a NUL is named with U+FFFD in its place, so the answer never carries one.
fn collect(value: &Value, path: &mut String, errors: &mut Vec<FieldError>) {
    if errors.len() >= MAX_REPORTED {
        return;
    }
    match value {
        Value::String(text) if !is_storable(text) => {
            errors.push(FieldError::new(path.clone(), MESSAGE));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{index}]");
                collect(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&storable(key));
                if !is_storable(key) && errors.len() < MAX_REPORTED {
                    errors.push(FieldError::new(path.clone(), format!("key {MESSAGE}")));
                }
                collect(item, path, errors);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(body: &str) -> Vec<String> {
        match check_json(body.as_bytes()) {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.path).collect(),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn only_a_real_escape_counts_and_paths_name_each_string() {
        assert!(paths(r#"{"a": "\\u0000", "b": "\\\\u0000", "c": "u0000"}"#).is_empty());
        assert_eq!(paths(r#"{"a": "\\\u0000"}"#), ["a"]);
        assert_eq!(
            paths(r#"{"lineItems": [{"name": "ok"}, {"name": "x\u0000"}], "n": {"k\u0000": 1}}"#),
            ["lineItems[1].name", "n.k\u{FFFD}"]
        );
        assert_eq!(paths(r#""\u0000""#), [""]);
    }

    #[test]
    fn url_text_is_checked_after_decoding() {
        assert!(check_query("email=a%2500b&x=1").is_ok());
        let Err(ApiError::Validation(errors)) = check_query("x=1&email=a%00b") else {
            panic!("a NUL in a query value is refused")
        };
        assert_eq!(errors[0].path, "email");
        assert!(check_path_params([("id", "cs_1")].into_iter()).is_ok());
        assert!(check_path_params([("id", "cs\0")].into_iter()).is_err());
    }
}
