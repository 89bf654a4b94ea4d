//! The limits every plugin run is held to, with their defaults.

use std::time::Duration;

/// What a plugin may use. One set per service (configuration), shown by `plugin run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// Longest run; the customer's remaining callback budget shortens it further.
    pub budget: Duration,
    /// Largest linear memory of a run, in bytes.
    pub memory_bytes: usize,
    /// Largest output (strings plus 48 bytes per row).
    pub output_bytes: usize,
    /// Largest log (the `log` import plus stdout and stderr), in bytes.
    pub log_bytes: usize,
    /// Largest upload, in bytes.
    pub upload_bytes: usize,
    /// Runs at once (pooling allocator slots); more wait for a slot within their deadline.
    pub slots: u32,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            budget: Duration::from_millis(50),
            memory_bytes: 32 << 20,
            output_bytes: 1 << 20,
            log_bytes: 16 << 10,
            upload_bytes: 32 << 20,
            slots: 32,
        }
    }
}
