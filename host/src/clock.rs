//! Wall-clock helpers: the service stores and emits instants as epoch milliseconds and
//! formats envelope timestamps as ISO-8601 (RFC 3339, UTC, millisecond precision);
//! settings write durations as `250ms`, `10s`, `5m`, `24h`, `3d`.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .expect("the clock is within i64 milliseconds")
}

/// `2026-06-11T14:03:22.000Z` for an epoch-millisecond instant.
pub fn iso8601(ms: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let text = at.format(&Rfc3339).unwrap_or_default();
    // Rfc3339 prints as many fractional digits as needed; pin to exactly three.
    let (seconds, _) = text.split_once(['.', 'Z']).unwrap_or((&text, ""));
    format!("{seconds}.{:03}Z", ms.rem_euclid(1000))
}

/// An instant as a request gives it, for the OpenAPI document: epoch milliseconds (an
/// integer) or an RFC 3339 text — what [`parse_instant`] reads.
#[derive(Debug, Clone, Copy)]
pub struct InstantInput;

impl utoipa::PartialSchema for InstantInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let epoch_ms = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .description(Some("Epoch milliseconds"));
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339, e.g. `2026-05-01T12:00:00Z`"));
        OneOfBuilder::new().item(epoch_ms).item(text).into()
    }
}

impl utoipa::ToSchema for InstantInput {}

/// Reads an instant given as epoch milliseconds (number) or an RFC 3339 string.
pub fn parse_instant(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => {
            let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
        }
        _ => None,
    }
}

/// Parses `250ms`, `10s`, `5m`, `24h` or `3d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 10s"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" | "" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => return Err(format!("`{text}`: unit must be ms, s, m, h or d")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_has_millisecond_precision() {
        assert_eq!(iso8601(1_781_186_602_000), "2026-06-11T14:03:22.000Z");
        assert_eq!(iso8601(1_781_186_602_042), "2026-06-11T14:03:22.042Z");
    }
}
