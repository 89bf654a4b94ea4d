//! Every limit a plugin is held to, with its default: per run (deadline, memory, output,
//! log), per organisation (its share of the run slots and of the CPU, its stored versions
//! and bytes) and per compilation (time, memory). The README's plugin section lists them.

use std::time::Duration;

/// What plugins may use. One set per service (configuration), shown by `plugin run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// Longest run; the customer's remaining callback budget shortens it further. Nothing a
    /// guest calls (sleeping, polling, reading) outlives it.
    pub budget: Duration,
    /// Largest linear memory of a run, in bytes.
    pub memory_bytes: usize,
    /// Largest output (strings plus 48 bytes per row). Also the most a guest may hand the
    /// host in one call (the output itself, one log line, one write to stdout): bytes past
    /// it are never copied.
    pub output_bytes: usize,
    /// Largest log of a run in bytes: the `log` import, stdout and stderr together, each
    /// line with its `[level] ` prefix.
    pub log_bytes: usize,
    /// Most lines in a run's log (everything a run writes, as for `log_bytes`).
    pub log_lines: usize,
    /// Largest upload, in bytes: room for a componentize-py or componentize-js component
    /// (12–40 MB, an interpreter and its snapshot); what an organisation stores in all is
    /// bounded by `org_max_stored_bytes`.
    pub upload_bytes: usize,
    /// Runs at once in the whole service (pooling allocator slots); more wait for a slot
    /// within their deadline.
    pub slots: u32,
    /// Runs at once of one organisation: no organisation can hold more of the slots.
    pub org_slots: u32,
    /// Plugin CPU time one organisation may use per second, in milliseconds (its runs
    /// and dry-runs together; a short burst of up to a second's worth is allowed). Beyond
    /// it, its runs wait for the budget within their deadline, then answer `busy`.
    pub org_cpu_ms_per_second: u32,
    /// Threads that execute plugin runs, apart from the threads serving HTTP; 0 runs them
    /// on the HTTP workers (a computing run still yields at every epoch tick).
    pub threads: usize,
    /// Longest compilation of an upload of up to 1 MiB (wall clock); past it the version is
    /// `failed`. Larger uploads get `compile_timeout_per_mib` more for each further MiB
    /// ([`PluginLimits::compile_timeout_for`]).
    pub compile_timeout: Duration,
    /// Compilation time granted per MiB of upload beyond the first: the compiler's time grows
    /// with the code it is given, so a 19 MB Python component is not held to a Rust
    /// plugin's minute (nor a small upload granted a large one's).
    pub compile_timeout_per_mib: Duration,
    /// Most resident memory a compilation may use; past it the version is `failed`.
    pub compile_memory_bytes: usize,
    /// Versions one organisation may store (deleting old ones frees room).
    pub org_max_versions: u32,
    /// Component bytes one organisation may store, all versions together.
    pub org_max_stored_bytes: u64,
    /// Compiled components kept in memory, weighed by their artifact's size (least recently
    /// used first out; an evicted one is loaded back from the disk cache in milliseconds).
    pub compiled_cache_bytes: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            budget: Duration::from_millis(50),
            memory_bytes: 32 << 20,
            output_bytes: 1 << 20,
            log_bytes: 16 << 10,
            log_lines: 200,
            upload_bytes: 48 << 20,
            slots: 32,
            org_slots: 8,
            org_cpu_ms_per_second: 250,
            threads: 2,
            compile_timeout: Duration::from_secs(60),
            compile_timeout_per_mib: Duration::from_secs(5),
            compile_memory_bytes: 2 << 30,
            org_max_versions: 50,
            org_max_stored_bytes: 256 << 20,
            compiled_cache_bytes: 1 << 30,
        }
    }
}

impl PluginLimits {
    /// Bytes a guest may hand the host in one call (its output, one log line, one write):
    /// the output cap plus the fixed size of its rows' records.
    pub fn hostcall_bytes(&self) -> usize {
        self.output_bytes + crate::catalog::breakdown::MAX_LINE_ITEMS * 128
    }

    /// The compilation time granted to an upload of `bytes`: `compile_timeout`, plus
    /// `compile_timeout_per_mib` for each MiB (started) beyond the first.
    pub fn compile_timeout_for(&self, bytes: usize) -> Duration {
        let extra_mib = bytes.div_ceil(1 << 20).saturating_sub(1);
        self.compile_timeout
            + self.compile_timeout_per_mib * u32::try_from(extra_mib).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn larger_uploads_get_proportionally_longer_to_compile() {
        let limits = PluginLimits::default();
        assert_eq!(limits.compile_timeout_for(200_000), Duration::from_secs(60));
        assert_eq!(limits.compile_timeout_for(1 << 20), Duration::from_secs(60));
        assert_eq!(limits.compile_timeout_for((1 << 20) + 1), Duration::from_secs(65));
        // A 19 MB componentize-py component: 60 s + 18 × 5 s.
        assert_eq!(limits.compile_timeout_for(18_900_000), Duration::from_secs(150));
        assert!(limits.compile_timeout_for(limits.upload_bytes) <= Duration::from_secs(300));
    }
}
