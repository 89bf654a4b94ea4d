//! Keyset pagination: opaque cursors over `(createdAt, id)` and bounded page sizes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::http::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;

/// An opaque cursor for the record `(created_at, id)`.
pub fn encode_cursor(created_at: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_at}:{id}"))
}

/// The cursor of the page's last record when the page is full (there may be more), else
/// `None`. `key` gives a record's `(createdAt, id)`.
pub fn next_cursor<T>(page: &[T], limit: i64, key: impl Fn(&T) -> (i64, &str)) -> Option<String> {
    let full = usize::try_from(limit).is_ok_and(|limit| page.len() == limit);
    page.last().filter(|_| full).map(|last| {
        let (created_at, id) = key(last);
        encode_cursor(created_at, id)
    })
}

/// Reads a cursor made by [`encode_cursor`]; 400 for anything else.
pub fn decode_cursor(cursor: &str) -> Result<(i64, String), ApiError> {
    let invalid = || ApiError::InvalidRequest("invalid cursor".into());
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?)
        .map_err(|_| invalid())?;
    let (at, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((at.parse().map_err(|_| invalid())?, id.to_owned()))
}

/// Validates `limit` (1..=100, default 20).
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(ApiError::invalid_field("limit", format!("between 1 and {MAX_LIMIT}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor(1_700_000_000_000, "evt_abc");
        assert_eq!(decode_cursor(&cursor).unwrap(), (1_700_000_000_000, "evt_abc".to_owned()));
        assert!(decode_cursor("not a cursor").is_err());
        assert!(page_limit(Some(0)).is_err() && page_limit(Some(101)).is_err());
    }
}
