//! Service configuration: flags and environment (via clap), an optional TOML file, defaults —
//! in that order of precedence — validated once at start with a clear message per bad value.
//!
//! Secrets (database passwords) never reach logs: [`DatabaseUrl`] redacts itself in `Debug`
//! and `Display`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default SQLite database, created next to where the service starts.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://winfactor.db";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default request body limit (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The validated configuration of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server binds (ignored by `run`, which takes a bound listener).
    pub listen: SocketAddr,
    /// Which database to use; SQLite files are created on start.
    pub database_url: DatabaseUrl,
    /// Base of every URL the service hands out (callback and quote view links).
    pub public_url: String,
    /// Let webhooks target loopback/private addresses (tests and the demo need it).
    pub allow_private_webhook_targets: bool,
    /// Seed the demo organisations if they are missing.
    pub demo: bool,
    /// Maximum accepted request body in bytes (413 above it).
    pub body_limit_bytes: usize,
}

impl Config {
    /// A configuration for tests and embedding: defaults plus the given database.
    pub fn for_database(database_url: &str) -> Result<Self, ConfigError> {
        Settings {
            database_url: Some(database_url.to_owned()),
            ..Settings::default()
        }
        .resolve()
    }
}

/// Raw, unvalidated settings from one source (flags/env or the TOML file).
#[derive(Debug, Default, Clone, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "WINFACTOR_LISTEN")]
    pub listen: Option<String>,
    /// `sqlite://FILE` (default `sqlite://winfactor.db`) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Public base URL used in callback and view links (default `http://<listen>`).
    #[arg(long, env = "WINFACTOR_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Allow webhook targets on loopback/private networks (off by default).
    #[arg(long, env = "WINFACTOR_ALLOW_PRIVATE_WEBHOOK_TARGETS")]
    pub allow_private_webhook_targets: Option<bool>,
    /// Maximum request body size in bytes.
    #[arg(long, env = "WINFACTOR_BODY_LIMIT_BYTES")]
    pub body_limit_bytes: Option<usize>,
    /// Seed the demo organisations if missing.
    #[arg(long, env = "WINFACTOR_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
}

impl Settings {
    /// Reads a TOML settings file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigError::new("config", format!("cannot read {}: {err}", path.display()))
        })?;
        toml::from_str(&text)
            .map_err(|err| ConfigError::new("config", format!("{}: {err}", path.display())))
    }

    /// Fills every unset value from `fallback`.
    pub fn or(self, fallback: Settings) -> Settings {
        Settings {
            listen: self.listen.or(fallback.listen),
            database_url: self.database_url.or(fallback.database_url),
            public_url: self.public_url.or(fallback.public_url),
            allow_private_webhook_targets: self
                .allow_private_webhook_targets
                .or(fallback.allow_private_webhook_targets),
            body_limit_bytes: self.body_limit_bytes.or(fallback.body_limit_bytes),
            demo: self.demo.or(fallback.demo),
        }
    }

    /// Applies defaults and validates every value.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let listen_text = self.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("`{listen_text}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let database_url =
            DatabaseUrl::parse(self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL))?;
        let public_url = match self.public_url {
            Some(url) => validate_public_url(&url)?,
            None => format!("http://{listen}"),
        };
        let body_limit_bytes = self.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT);
        if !(1024..=64 * 1024 * 1024).contains(&body_limit_bytes) {
            return Err(ConfigError::new(
                "body_limit_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        Ok(Config {
            listen,
            database_url,
            public_url,
            allow_private_webhook_targets: self.allow_private_webhook_targets.unwrap_or(false),
            demo: self.demo.unwrap_or(false),
            body_limit_bytes,
        })
    }
}

/// Loads settings from flags/env, then `config_file` if given, then defaults.
pub fn load(cli: Settings, config_file: Option<&PathBuf>) -> Result<Config, ConfigError> {
    let file = match config_file {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    cli.or(file).resolve()
}

fn validate_public_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| ConfigError::new("public_url", "must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(ConfigError::new(
            "public_url",
            format!("`{url}` has no valid host"),
        ));
    }
    Ok(trimmed.to_owned())
}

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
    /// Validates the scheme and, for SQLite, turns on create-if-missing.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            if rest.is_empty() {
                return Err(ConfigError::new(
                    "database_url",
                    "sqlite URL needs a file path",
                ));
            }
            let url = if rest.contains("mode=") {
                format!("sqlite://{rest}")
            } else if rest.contains('?') {
                format!("sqlite://{rest}&mode=rwc")
            } else {
                format!("sqlite://{rest}?mode=rwc")
            };
            Ok(Self {
                url,
                backend: Backend::Sqlite,
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self {
                url: url.to_owned(),
                backend: Backend::Postgres,
            })
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
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &self.url[scheme_end + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        format!(
                            "{}{user}:***{}",
                            &self.url[..scheme_end + 3],
                            &self.url[at..]
                        )
                    }
                    None => self.url.clone(),
                }
            }
            _ => self.url.clone(),
        }
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
    fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self {
            setting,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_password_is_redacted_everywhere() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/winfactor").unwrap();
        let config = Settings {
            database_url: Some(url.expose().into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!url.to_string().contains("s3cret"));
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/winfactor");
    }

    #[test]
    fn bad_values_name_their_setting() {
        let err = Settings {
            listen: Some("nowhere".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(err.setting, "listen");
        let err = Settings {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(err.setting, "database_url");
        let err = Settings {
            public_url: Some("ftp://x".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(err.setting, "public_url");
    }

    #[test]
    fn flags_win_over_file_and_sqlite_is_created_on_demand() {
        let cli = Settings {
            listen: Some("127.0.0.1:9000".into()),
            ..Default::default()
        };
        let file: Settings =
            toml::from_str("listen = \"0.0.0.0:1\"\ndatabase_url = \"sqlite://x.db\"").unwrap();
        let config = cli.or(file).resolve().unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.database_url.expose(), "sqlite://x.db?mode=rwc");
        assert_eq!(config.public_url, "http://127.0.0.1:9000");
    }
}
