//! What a run can reach: a fresh store per run holding a deny-all WASI context (no files,
//! environment, arguments, sockets or name lookup; stdout/stderr into the run's bounded
//! log; clocks frozen at zero; a fixed random cycle), the `log` import into the same log,
//! and a memory limiter that records the peak and refuses growth past the cap.

use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView,
};

use super::bindings::{self, Level};
use super::run_log::RunLog;

/// The data of one run's store.
pub struct RunState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The `log` import's lines, stdout and stderr, under one cap.
    log: RunLog,
    /// Memory accounting.
    pub limiter: MemoryLimiter,
}

impl RunState {
    /// A fresh state: nothing survives from another run.
    pub fn new(memory_cap: usize, log: RunLog) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(log.clone())
            .stderr(log.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .secure_random(Deterministic::new(RANDOM_CYCLE.to_vec()))
            .insecure_random(Deterministic::new(RANDOM_CYCLE.to_vec()))
            .insecure_random_seed(0)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            log,
            limiter: MemoryLimiter { cap: memory_cap, peak: 0, refused: None },
        }
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl bindings::winfactor::pricing::types::Host for RunState {}

impl bindings::winfactor::pricing::log::Host for RunState {
    fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.log.line(level, &message);
    }
}

/// Refuses linear-memory growth past the cap and remembers the peak.
pub struct MemoryLimiter {
    cap: usize,
    /// Largest memory size reached, in bytes.
    pub peak: usize,
    /// Why a growth was refused (the run then traps).
    pub refused: Option<String>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            let why = format!("memory limit: {desired} bytes requested, the cap is {}", self.cap);
            self.refused = Some(why.clone());
            wasmtime::bail!(why);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Both WASI clocks, stopped at zero: a run cannot observe time.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// The bytes `wasi:random` cycles through: the same in every run, so a run is a pure
/// function of its request.
const RANDOM_CYCLE: [u8; 16] = *b"winfactor-fixed!";
