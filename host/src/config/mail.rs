//! The outgoing mail settings, read and checked.

use std::time::Duration;

use super::{ConfigError, Settings, duration, schedule};
use crate::outbox::RetrySchedule;
use crate::urls::SecretUrl;

/// What the mail settings resolve to (the [`super::Config`] fields `smtp_url`, `mail_*`).
pub(super) struct MailSettings {
    pub(super) smtp_url: Option<SecretUrl>,
    pub(super) from: String,
    pub(super) timeout: Duration,
    pub(super) retry_schedule: RetrySchedule,
}

/// The mail settings of `settings`, defaults filled in.
pub(super) fn resolve(settings: &Settings) -> Result<MailSettings, ConfigError> {
    let smtp_url = match settings.smtp_url.as_deref() {
        Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            Some(SecretUrl::new(url))
        }
        Some(_) => return Err(ConfigError::new("smtp_url", "must start with smtp:// or smtps://")),
        None => None,
    };
    let from = settings
        .mail_from
        .clone()
        .unwrap_or_else(|| "WinFactor <quotes@winfactor.localhost>".into());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new("mail_from", format!("`{from}` is not a mailbox")));
    }
    let timeout =
        duration("mail_timeout", settings.mail_timeout.as_deref(), crate::mail::DEFAULT_TIMEOUT)?;
    if timeout.is_zero() || timeout > Duration::from_secs(600) {
        return Err(ConfigError::new("mail_timeout", "must be between 1ms and 10m"));
    }
    let retry_schedule = schedule(
        "mail_retry_schedule",
        settings.mail_retry_schedule.as_deref(),
        crate::mail::default_retries(),
    )?;
    Ok(MailSettings { smtp_url, from, timeout, retry_schedule })
}
