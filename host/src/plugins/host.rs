//! The wasmtime host: one engine (pooling allocator, copy-on-write memory images, epoch
//! interruption driven by one ticker thread while runs need it), one linker, compiled
//! components cached in memory and on disk, and the run itself in a fresh store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use super::bindings::{self, PricingPlugin, PricingPluginPre};
use super::epoch::{EpochTicker, TICK};
use super::input::PricingInput;
use super::limits::PluginLimits;
use super::sandbox::RunState;
use crate::catalog::Pricing;
use crate::pricing::adjustment::price_line_items;

/// Bytes of each pooled memory and table kept resident between runs: page faults were half
/// of a run's time (a Rust plugin's 1 MiB stack plus its first heap pages); a reused slot is
/// zeroed with memset up to the size the memory actually reached.
const KEEP_RESIDENT: usize = 8 << 20;
/// Compiled components kept in memory.
const MEMORY_CACHE_ENTRIES: u64 = 256;

/// A component compiled and linked, ready to instantiate in microseconds.
pub struct Prepared {
    pre: PricingPluginPre<RunState>,
}

/// How a run's component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Already in memory.
    Warm,
    /// Loaded from the on-disk precompiled cache (no compilation).
    Precompiled,
    /// Compiled from the uploaded bytes.
    Compiled,
}

impl Origin {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warm => "warm",
            Self::Precompiled => "precompiled",
            Self::Compiled => "compiled",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A valid breakdown.
    Ok,
    /// The plugin declined with a typed error.
    PluginError,
    /// The breakdown broke a rule (malformed decimal, too many rows, output cap).
    InvalidOutput,
    /// The deadline passed.
    Timeout,
    /// The memory cap was reached.
    MemoryLimit,
    /// Any other trap (panic, stack exhaustion, log cap, …).
    Trap,
    /// No run slot freed up before the deadline.
    Busy,
    /// The version could not be loaded (still compiling, failed).
    Unavailable,
}

impl Outcome {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::PluginError => "plugin_error",
            Self::InvalidOutput => "invalid_output",
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::Trap => "trap",
            Self::Busy => "busy",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Everything measured about one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// How it ended.
    pub outcome: Outcome,
    /// The validated breakdown, for [`Outcome::Ok`].
    pub pricing: Option<Pricing>,
    /// What went wrong, otherwise.
    pub error: Option<String>,
    /// A fresh store, instantiation and the call.
    pub duration: Duration,
    /// Largest linear memory reached, bytes.
    pub peak_memory: usize,
    /// Output size as counted against the cap.
    pub output_bytes: usize,
    /// The log (bounded).
    pub log: Vec<String>,
}

impl RunReport {
    /// A run that never started.
    pub fn not_run(outcome: Outcome, error: String) -> Self {
        Self {
            outcome,
            pricing: None,
            error: Some(error),
            duration: Duration::ZERO,
            peak_memory: 0,
            output_bytes: 0,
            log: Vec::new(),
        }
    }
}

/// The engine, linker and caches. Cheap to clone.
#[derive(Clone)]
pub struct WasmHost {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<RunState>,
    limits: PluginLimits,
    /// Keyed by the component's SHA-256: identical uploads share one compilation.
    prepared: moka::sync::Cache<String, Arc<Prepared>>,
    cache_dir: Option<PathBuf>,
    /// Hex of the engine's precompile compatibility hash (part of artifact names).
    compatibility: String,
    ticker: EpochTicker,
}

impl WasmHost {
    /// An engine sized for `limits.slots` concurrent runs, with artifacts under
    /// `cache_dir` (none: compile on every start, as `winfactor plugin` does).
    pub fn new(limits: PluginLimits, cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        let slots = limits.slots.max(1);
        // A Rust component holds a few core instances (the program, shims) and one or two
        // memories; leave headroom for other toolchains' layouts.
        pool.total_component_instances(slots)
            .total_core_instances(slots * 16)
            .max_core_instances_per_component(16)
            .total_memories(slots * 4)
            .max_memories_per_component(4)
            .total_tables(slots * 16)
            .max_tables_per_component(16)
            .max_memory_size(limits.memory_bytes)
            // A reused slot keeps its pages mapped (zeroed with memset, not madvise), so a
            // run does not page-fault its way through the stack and the first heap.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT);
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .memory_init_cow(true)
            .wasm_component_model(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        PricingPlugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let compatibility = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            format!("{:016x}", hasher.finish())
        };
        let ticker = EpochTicker::start(&engine);
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                limits,
                prepared: moka::sync::Cache::new(MEMORY_CACHE_ENTRIES),
                cache_dir,
                compatibility,
                ticker,
            }),
        })
    }

    /// The limits runs are held to.
    pub fn limits(&self) -> PluginLimits {
        self.inner.limits
    }

    /// The name of a component's precompiled artifact on this engine.
    pub fn artifact_key(&self, sha256: &str) -> String {
        format!("{sha256}-{}", self.inner.compatibility)
    }

    /// The prepared component, if in memory.
    pub fn warm(&self, sha256: &str) -> Option<Arc<Prepared>> {
        self.inner.prepared.get(sha256)
    }

    /// Compiles and links `bytes` (slow: call off the async runtime), keeps the result in
    /// memory and, with a cache directory, writes the precompiled artifact. Returns the
    /// artifact's SHA-256 for the caller to record: only artifacts whose digest it
    /// recorded are ever loaded back.
    pub fn compile(&self, sha256: &str, bytes: &[u8]) -> anyhow::Result<(Arc<Prepared>, String)> {
        let component = Component::new(&self.inner.engine, bytes)?;
        let prepared = self.link(sha256, &component)?;
        let artifact = component.serialize()?;
        let digest = hex::encode(Sha256::digest(&artifact));
        if let Some(dir) = &self.inner.cache_dir {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("{}.cwasm", self.artifact_key(sha256)));
            let partial = path.with_extension("partial");
            std::fs::write(&partial, &artifact)?;
            std::fs::rename(&partial, &path)?;
        }
        Ok((prepared, digest))
    }

    /// Loads the precompiled artifact of `sha256` from disk if its digest is `digest`
    /// (what this host recorded when it wrote it); `None` if absent or different.
    pub fn load_precompiled(
        &self,
        sha256: &str,
        digest: &str,
    ) -> anyhow::Result<Option<Arc<Prepared>>> {
        let Some(dir) = &self.inner.cache_dir else { return Ok(None) };
        let path = dir.join(format!("{}.cwasm", self.artifact_key(sha256)));
        let Ok(artifact) = std::fs::read(&path) else { return Ok(None) };
        if hex::encode(Sha256::digest(&artifact)) != digest {
            tracing::warn!(path = %path.display(), "precompiled artifact does not match its recorded digest; recompiling");
            return Ok(None);
        }
        let component = deserialize_own_artifact(&self.inner.engine, &artifact)?;
        Ok(Some(self.link(sha256, &component)?))
    }

    fn link(&self, sha256: &str, component: &Component) -> anyhow::Result<Arc<Prepared>> {
        let instance_pre = self.inner.linker.instantiate_pre(component)?;
        let prepared = Arc::new(Prepared { pre: PricingPluginPre::new(instance_pre)? });
        self.inner.prepared.insert(sha256.to_owned(), prepared.clone());
        Ok(prepared)
    }

    /// Runs `prepared` on `input` with `settings` (JSON text) for at most `deadline`, in a
    /// fresh store. Blocking: microseconds for a well-behaved plugin, up to the deadline
    /// for a hostile one.
    pub fn run(
        &self,
        prepared: &Prepared,
        input: &PricingInput,
        settings: &str,
        deadline: Duration,
    ) -> RunReport {
        let limits = self.inner.limits;
        let request = input.to_wit(settings);
        // Timed from the fresh store on: what every run pays, whatever the plugin does.
        let started = Instant::now();
        let _ticking = self.inner.ticker.run();
        let mut store =
            Store::new(&self.inner.engine, RunState::new(limits.memory_bytes, limits.log_bytes));
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(ticks(deadline));
        store.epoch_deadline_trap();
        let result = prepared
            .pre
            .instantiate(&mut store)
            .and_then(|plugin| plugin.call_price(&mut store, &request));
        let duration = started.elapsed();
        let mut state = store.into_data();
        let peak_memory = state.limiter.peak;
        let memory_refused = state.limiter.refused.take();
        let mut report = RunReport {
            outcome: Outcome::Ok,
            pricing: None,
            error: None,
            duration,
            peak_memory,
            output_bytes: 0,
            log: state.into_log(),
        };
        match result {
            Ok(Ok(breakdown)) => {
                report.output_bytes = bindings::output_size(&breakdown);
                match self.validate(breakdown, report.output_bytes, &input.base_pricing.currency) {
                    Ok(pricing) => report.pricing = Some(pricing),
                    Err(why) => report.fail(Outcome::InvalidOutput, why),
                }
            }
            Ok(Err(declined)) => report.fail(Outcome::PluginError, bindings::describe(&declined)),
            Err(err) => {
                let (outcome, why) = match (memory_refused, err.downcast_ref::<Trap>()) {
                    (Some(why), _) => (Outcome::MemoryLimit, why),
                    (None, Some(Trap::Interrupt)) => (
                        Outcome::Timeout,
                        format!("deadline of {} ms passed", deadline.as_millis()),
                    ),
                    (None, _) => (Outcome::Trap, truncate(format!("{err:#}"), 1000)),
                };
                report.fail(outcome, why);
            }
        }
        report
    }

    fn validate(
        &self,
        breakdown: bindings::Breakdown,
        output_bytes: usize,
        currency: &str,
    ) -> Result<Pricing, String> {
        let cap = self.inner.limits.output_bytes;
        if output_bytes > cap {
            return Err(format!("output of {output_bytes} bytes; the cap is {cap}"));
        }
        let items = bindings::line_items(breakdown)?;
        price_line_items(items, currency, "lineItems").map_err(|errors| {
            let shown: Vec<String> =
                errors.iter().take(5).map(|e| format!("{}: {}", e.path, e.message)).collect();
            shown.join("; ")
        })
    }
}

impl RunReport {
    fn fail(&mut self, outcome: Outcome, why: String) {
        self.outcome = outcome;
        self.error = Some(why);
    }
}

/// Epoch ticks for `deadline`, rounded up, plus one for the tick in progress.
fn ticks(deadline: Duration) -> u64 {
    (deadline.as_micros().div_ceil(TICK.as_micros()) as u64).max(1) + 1
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Loads an artifact this host wrote into its cache directory.
///
/// The one `unsafe` of the service: `Component::deserialize` trusts its input to be
/// wasmtime's own output. The caller checked the bytes against the SHA-256 recorded when
/// this host (same engine build: the compatibility hash is in the file name) serialized
/// them, so uploaded bytes never reach this function.
#[allow(unsafe_code)]
fn deserialize_own_artifact(engine: &Engine, artifact: &[u8]) -> anyhow::Result<Component> {
    // SAFETY: `artifact` is byte-for-byte what `Component::serialize` produced on an engine
    // with the same compatibility hash (digest checked by the caller).
    Ok(unsafe { Component::deserialize(engine, artifact) }?)
}
