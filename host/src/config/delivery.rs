//! The webhook delivery settings, read and checked into the worker's [`DeliveryConfig`].

use std::time::Duration;

use super::{ConfigError, Settings, duration, schedule};
use crate::outbox::DeliveryConfig;
use crate::urls::SecretUrl;

/// The delivery tuning of `settings`, defaults filled in.
pub(super) fn resolve(settings: &Settings) -> Result<DeliveryConfig, ConfigError> {
    let defaults = DeliveryConfig::default();
    let setting = |name, text: &Option<String>, default| duration(name, text.as_deref(), default);
    let delivery = DeliveryConfig {
        timeout: setting("webhook_timeout", &settings.webhook_timeout, defaults.timeout)?,
        retry_schedule: schedule(
            "webhook_retry_schedule",
            settings.webhook_retry_schedule.as_deref(),
            defaults.retry_schedule.clone(),
        )?,
        disable_after: setting(
            "webhook_disable_after",
            &settings.webhook_disable_after,
            defaults.disable_after,
        )?,
        retention: setting("webhook_retention", &settings.webhook_retention, defaults.retention)?,
        poll_interval: setting(
            "webhook_poll_interval",
            &settings.webhook_poll_interval,
            defaults.poll_interval,
        )?,
        concurrency: settings.webhook_concurrency.unwrap_or(defaults.concurrency),
        endpoint_concurrency: settings
            .webhook_endpoint_concurrency
            .unwrap_or(defaults.endpoint_concurrency),
        // The demo runs with local receivers; everything else must opt in.
        allow_private_targets: settings
            .allow_private_webhook_targets
            .unwrap_or(settings.demo.unwrap_or(false)),
        proxy: settings.webhook_proxy_url.as_deref().map(SecretUrl::proxy).transpose()?,
    };
    if delivery.timeout.is_zero() || delivery.timeout > Duration::from_secs(60) {
        return Err(ConfigError::new("webhook_timeout", "must be between 1ms and 60s"));
    }
    if delivery.poll_interval.is_zero() {
        return Err(ConfigError::new("webhook_poll_interval", "must be positive"));
    }
    if !(1..=4096).contains(&delivery.concurrency) {
        return Err(ConfigError::new("webhook_concurrency", "must be between 1 and 4096"));
    }
    if !(1..=256).contains(&delivery.endpoint_concurrency) {
        return Err(ConfigError::new("webhook_endpoint_concurrency", "must be between 1 and 256"));
    }
    Ok(delivery)
}
