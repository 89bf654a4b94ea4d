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
    /// Largest upload, in bytes.
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
    /// Longest compilation of an upload (wall clock); past it the version is `failed`.
    pub compile_timeout: Duration,
    /// Most resident memory a compilation may use; past it the version is `failed`.
    pub compile_memory_bytes: usize,
    /// Versions one organisation may store (deleting old ones frees room).
    pub org_max_versions: u32,
    /// Component bytes one organisation may store, all versions together.
    pub org_max_stored_bytes: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            budget: Duration::from_millis(50),
            memory_bytes: 32 << 20,
            output_bytes: 1 << 20,
            log_bytes: 16 << 10,
            log_lines: 200,
            upload_bytes: 32 << 20,
            slots: 32,
            org_slots: 8,
            org_cpu_ms_per_second: 250,
            threads: 2,
            compile_timeout: Duration::from_secs(60),
            compile_memory_bytes: 2 << 30,
            org_max_versions: 50,
            org_max_stored_bytes: 256 << 20,
        }
    }
}

impl PluginLimits {
    /// Bytes a guest may hand the host in one call (its output, one log line, one write):
    /// the output cap plus the fixed size of its rows' records.
    pub fn hostcall_bytes(&self) -> usize {
        self.output_bytes + crate::catalog::breakdown::MAX_LINE_ITEMS * 128
    }
}
