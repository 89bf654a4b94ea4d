//! URLs the service connects to: the database URL (which also picks the backend) and URLs
//! carrying credentials (SMTP, a webhook proxy), all printed with their password hidden.

use std::fmt;

use crate::validation::ConfigError;

/// The database backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A local SQLite file (single node).
    Sqlite,
    /// PostgreSQL (scale-out).
    Postgres,
}

/// A database URL that never prints its password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Validates the scheme; for SQLite, turns on create-if-missing; for Postgres on the
    /// loopback (`localhost`, `127.0.0.1`, `::1`) with no `sslmode` given, connects
    /// without TLS — sqlx would otherwise negotiate it (`prefer`), encrypting every round
    /// trip of a connection no one else can see (~0.2 ms on each live price change).
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            if rest.is_empty() {
                return Err(ConfigError::new("database_url", "sqlite URL needs a file path"));
            }
            let url = if rest.contains("mode=") {
                format!("sqlite://{rest}")
            } else if rest.contains('?') {
                format!("sqlite://{rest}&mode=rwc")
            } else {
                format!("sqlite://{rest}?mode=rwc")
            };
            Ok(Self { url, backend: Backend::Sqlite })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let url = match url::Url::parse(url) {
                Ok(parsed) if on_loopback(&parsed) && !names_sslmode(&parsed) => {
                    let separator = if parsed.query().is_some() { '&' } else { '?' };
                    format!("{url}{separator}sslmode=disable")
                }
                _ => url.to_owned(),
            };
            Ok(Self { url, backend: Backend::Postgres })
        } else {
            Err(ConfigError::new(
                "database_url",
                "must start with sqlite:// or postgres:// (e.g. sqlite://winfactor.db)",
            ))
        }
    }

    /// The backend the URL selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_password(&self.url)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A Postgres URL whose host is this machine's loopback (and not a Unix socket given as
/// `host=` in the query, which never uses TLS anyway).
fn on_loopback(url: &url::Url) -> bool {
    let socket = url.query_pairs().any(|(key, _)| key == "host");
    let loopback = match url.host() {
        // A `postgres:` URL's host is opaque to the `url` crate: an IPv4 address comes as a
        // name.
        Some(url::Host::Domain(name)) => {
            name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    loopback && !socket
}

/// Whether the URL chooses its own TLS mode.
fn names_sslmode(url: &url::Url) -> bool {
    url.query_pairs().any(|(key, _)| key == "sslmode" || key == "ssl-mode")
}

/// `scheme://user:***@host…`: the URL with its password hidden.
pub fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            match url[scheme_end + 3..at].split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A URL carrying credentials (SMTP): printed only with its password hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a URL.
    pub fn new(url: &str) -> Self {
        Self(url.to_owned())
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Validates `webhook_proxy_url`: an `http://` or `https://` proxy with a host, its
    /// credentials (if any) in the URL.
    pub fn proxy(text: &str) -> Result<Self, ConfigError> {
        let invalid = |message: &str| ConfigError::new("webhook_proxy_url", message.to_owned());
        let url = url::Url::parse(text).map_err(|_| invalid("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("must start with http:// or https://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("has no host"));
        }
        Ok(Self::new(text))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_password(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_http_with_a_host_and_keep_their_password_hidden() {
        let proxy = SecretUrl::proxy("http://egress:s3cret@proxy.internal:3128").unwrap();
        assert_eq!(format!("{proxy:?}"), "http://egress:***@proxy.internal:3128");
        assert!(SecretUrl::proxy("https://10.0.0.5:8443").is_ok());
        for bad in ["socks5://proxy:1080", "proxy:3128", "http://", "not a url"] {
            assert_eq!(SecretUrl::proxy(bad).unwrap_err().setting, "webhook_proxy_url", "{bad}");
        }
    }

    #[test]
    fn postgres_on_the_loopback_connects_without_tls_unless_told() {
        let url = |s: &str| DatabaseUrl::parse(s).unwrap().expose().to_owned();
        assert_eq!(
            url("postgres://app@127.0.0.1:5432/db"),
            "postgres://app@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            url("postgres://localhost/db?application_name=x"),
            "postgres://localhost/db?application_name=x&sslmode=disable"
        );
        assert_eq!(url("postgresql://[::1]/db"), "postgresql://[::1]/db?sslmode=disable");
        for untouched in [
            "postgres://app@127.0.0.1/db?sslmode=require",
            "postgres://db.internal:5432/db",
            "postgres://10.0.0.5/db",
            "postgres://localhost/db?host=/var/run/postgresql",
        ] {
            assert_eq!(url(untouched), untouched);
        }
    }
}
