//! The plugin limits, read and checked: each within its range, named by its setting when
//! not.

use std::time::Duration;

use super::{ConfigError, Settings, duration};
use crate::plugins::PluginLimits;

/// The plugin limits of `settings`, defaults filled in.
pub(super) fn resolve(settings: &Settings) -> Result<PluginLimits, ConfigError> {
    let defaults = PluginLimits::default();
    let limits = PluginLimits {
        budget: duration("plugin_budget", settings.plugin_budget.as_deref(), defaults.budget)?,
        memory_bytes: settings.plugin_memory_mib.map_or(defaults.memory_bytes, |mib| mib << 20),
        slots: settings.plugin_slots.unwrap_or(defaults.slots),
        org_slots: settings.plugin_org_slots.unwrap_or(defaults.org_slots),
        org_cpu_ms_per_second: settings
            .plugin_org_cpu_ms_per_second
            .unwrap_or(defaults.org_cpu_ms_per_second),
        threads: settings.plugin_threads.unwrap_or(defaults.threads),
        compile_timeout: duration(
            "plugin_compile_timeout",
            settings.plugin_compile_timeout.as_deref(),
            defaults.compile_timeout,
        )?,
        compile_memory_bytes: settings
            .plugin_compile_memory_mib
            .map_or(defaults.compile_memory_bytes, |mib| mib << 20),
        org_max_versions: settings.plugin_max_versions.unwrap_or(defaults.org_max_versions),
        org_max_stored_bytes: settings
            .plugin_max_stored_mib
            .map_or(defaults.org_max_stored_bytes, |mib| mib << 20),
        ..defaults
    };
    validate(&limits)?;
    Ok(limits)
}

fn validate(limits: &PluginLimits) -> Result<(), ConfigError> {
    let checks: [(&str, bool, &str); 9] = [
        (
            "plugin_budget",
            !limits.budget.is_zero() && limits.budget <= Duration::from_secs(10),
            "must be between 1ms and 10s",
        ),
        (
            "plugin_memory_mib",
            (1..=4096).contains(&(limits.memory_bytes >> 20)),
            "must be between 1 and 4096",
        ),
        ("plugin_slots", (1..=1024).contains(&limits.slots), "must be between 1 and 1024"),
        (
            "plugin_org_slots",
            (1..=limits.slots).contains(&limits.org_slots),
            "must be between 1 and plugin_slots",
        ),
        (
            "plugin_org_cpu_ms_per_second",
            (1..=100_000).contains(&limits.org_cpu_ms_per_second),
            "must be between 1 and 100000",
        ),
        ("plugin_threads", (0..=256).contains(&limits.threads), "must be between 0 and 256"),
        (
            "plugin_compile_timeout",
            limits.compile_timeout >= Duration::from_millis(100)
                && limits.compile_timeout <= Duration::from_secs(3600),
            "must be between 100ms and 1h",
        ),
        (
            "plugin_compile_memory_mib",
            (32..=65_536).contains(&(limits.compile_memory_bytes >> 20)),
            "must be between 32 and 65536",
        ),
        (
            "plugin_max_versions",
            limits.org_max_versions >= 1 && limits.org_max_stored_bytes >= 1 << 20,
            "plugin_max_versions and plugin_max_stored_mib must be at least 1",
        ),
    ];
    match checks.into_iter().find(|(_, ok, _)| !ok) {
        Some((setting, _, why)) => Err(ConfigError::new(setting, why)),
        None => Ok(()),
    }
}
