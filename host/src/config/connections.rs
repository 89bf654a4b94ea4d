//! The connection settings, read and checked: timeouts and caps on what clients hold open
//! (enforced by [`crate::server::connections`] and the price stream handler). Caps derived
//! from the open-file limit are worked out at start, when that limit is known.

use std::time::Duration;

use super::{ConfigError, Settings, duration};
use crate::server::connections::ConnectionLimits;

/// The connection limits of `settings`, defaults filled in.
pub(super) fn resolve(settings: &Settings) -> Result<ConnectionLimits, ConfigError> {
    let defaults = ConnectionLimits::default();
    let limits = ConnectionLimits {
        header_read_timeout: ranged(
            "header_read_timeout",
            settings.header_read_timeout.as_deref(),
            defaults.header_read_timeout,
            Duration::from_millis(100)..=Duration::from_secs(600),
        )?,
        request_body_timeout: ranged(
            "request_body_timeout",
            settings.request_body_timeout.as_deref(),
            defaults.request_body_timeout,
            Duration::from_millis(100)..=Duration::from_secs(3600),
        )?,
        max_connections: settings.max_connections,
        max_connections_per_ip: settings
            .max_connections_per_ip
            .unwrap_or(defaults.max_connections_per_ip),
        max_sse_streams: settings.max_sse_streams,
        max_sse_streams_per_session: settings
            .max_sse_streams_per_session
            .unwrap_or(defaults.max_sse_streams_per_session),
    };
    let at_least_one = [
        ("max_connections", limits.max_connections),
        ("max_connections_per_ip", Some(limits.max_connections_per_ip)),
        ("max_sse_streams", limits.max_sse_streams),
        ("max_sse_streams_per_session", Some(limits.max_sse_streams_per_session)),
    ];
    for (setting, value) in at_least_one {
        if value == Some(0) {
            return Err(ConfigError::new(setting, "must be at least 1"));
        }
    }
    if let (Some(streams), Some(connections)) = (limits.max_sse_streams, limits.max_connections)
        && streams > connections
    {
        return Err(ConfigError::new("max_sse_streams", "must not exceed max_connections"));
    }
    Ok(limits)
}

/// The duration setting `text` (or `default`), which must lie in `range`.
fn ranged(
    setting: &'static str,
    text: Option<&str>,
    default: Duration,
    range: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, ConfigError> {
    let value = duration(setting, text, default)?;
    if text.is_some() && !range.contains(&value) {
        let message = format!("must be between {:?} and {:?}", range.start(), range.end());
        return Err(ConfigError::new(setting, message));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let limits = resolve(&Settings::default()).unwrap();
        assert_eq!(limits, ConnectionLimits::default());
        let set = Settings {
            header_read_timeout: Some("250ms".into()),
            max_connections: Some(1000),
            max_sse_streams: Some(10),
            ..Default::default()
        };
        let limits = resolve(&set).unwrap();
        assert_eq!(limits.header_read_timeout, Duration::from_millis(250));
        assert_eq!((limits.max_connections, limits.max_sse_streams), (Some(1000), Some(10)));
        for (settings, setting) in [
            (
                Settings { header_read_timeout: Some("1ms".into()), ..Default::default() },
                "header_read_timeout",
            ),
            (
                Settings { request_body_timeout: Some("soon".into()), ..Default::default() },
                "request_body_timeout",
            ),
            (
                Settings { max_connections_per_ip: Some(0), ..Default::default() },
                "max_connections_per_ip",
            ),
            (
                Settings {
                    max_connections: Some(5),
                    max_sse_streams: Some(6),
                    ..Default::default()
                },
                "max_sse_streams",
            ),
        ] {
            assert_eq!(resolve(&settings).unwrap_err().setting, setting);
        }
    }
}
