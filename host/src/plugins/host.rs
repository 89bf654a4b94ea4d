//! The wasmtime host: one engine (pooling allocator, copy-on-write memory images, epoch
//! interruption driven by one ticker thread while runs need it), one linker, compiled
//! components written to disk and mapped from there (the recently used kept in memory),
//! and the run itself: async, in a fresh store, over by its deadline whatever the guest
//! calls.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use super::bindings::{self, PricingPlugin, PricingPluginPre};
use super::epoch::EpochTicker;
use super::input::PricingInput;
use super::limits::PluginLimits;
use super::run_log::RunLog;
use super::sandbox::RunState;
use crate::catalog::Pricing;
use crate::catalog::breakdown::price_line_items;

/// Bytes of each pooled memory and table kept resident between runs: page faults were half
/// of a run's time (a Rust plugin's 1 MiB stack plus its first heap pages); a reused slot is
/// zeroed with memset up to the size the memory actually reached.
const KEEP_RESIDENT: usize = 8 << 20;

/// A component compiled and linked, ready to instantiate in microseconds.
pub struct Prepared {
    pre: PricingPluginPre<RunState>,
    /// Its artifact's size: what it weighs in the in-memory cache (a Rust plugin's is
    /// hundreds of KiB, a componentize-py one's tens of MiB).
    weight: u32,
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
    /// Keyed by the component's SHA-256: identical uploads share one compilation. Bounded
    /// by the artifacts' total size (`compiled_cache_bytes`), least recently used out.
    prepared: moka::sync::Cache<String, Arc<Prepared>>,
    cache_dir: Option<PathBuf>,
    /// Hex of the engine's precompile compatibility hash (part of artifact names).
    compatibility: String,
    ticker: EpochTicker,
}

/// The code-generation settings, shared by the service's engine and the compile worker
/// (whose artifacts this engine loads): what the compiled code checks and assumes.
pub(super) fn codegen_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true).memory_init_cow(true).wasm_component_model(true);
    config
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
            // One fiber stack per run in flight.
            .total_stacks(slots)
            .max_memory_size(limits.memory_bytes)
            // A reused slot keeps its pages mapped (zeroed with memset, not madvise), so a
            // run does not page-fault its way through the stack and the first heap.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT);
        let mut config = codegen_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
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
                prepared: moka::sync::Cache::builder()
                    .max_capacity(limits.compiled_cache_bytes)
                    .weigher(|_, prepared: &Arc<Prepared>| prepared.weight)
                    .build(),
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

    /// Compiles `bytes` in this process (slow: call off the async runtime) and installs the
    /// result (see [`WasmHost::install`]). The service compiles in a worker process
    /// instead ([`super::compiler`]); the local runner and embedders without one use this.
    pub fn compile(&self, sha256: &str, bytes: &[u8]) -> anyhow::Result<(Arc<Prepared>, String)> {
        let artifact = self.precompile(bytes)?;
        self.install(sha256, &artifact)
    }

    /// Compiles `bytes` into an artifact for [`WasmHost::install`] (slow: call off the
    /// async runtime).
    pub fn precompile(&self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(self.inner.engine.precompile_component(bytes)?)
    }

    /// Installs the artifact compiled from the component `sha256` — by this host or by its
    /// compile worker (the same build, so the same code-generation settings): writes it
    /// to the cache directory, links it and keeps it in memory. Returns the artifact's
    /// SHA-256 for the caller to record: only artifacts whose digest it recorded are ever
    /// loaded back from disk.
    pub fn install(
        &self,
        sha256: &str,
        artifact: &[u8],
    ) -> anyhow::Result<(Arc<Prepared>, String)> {
        let digest = hex::encode(Sha256::digest(artifact));
        let component = match &self.inner.cache_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = self.artifact_path(dir, sha256);
                let partial = path.with_extension(format!("{}.partial", std::process::id()));
                std::fs::write(&partial, artifact)?;
                std::fs::rename(&partial, &path)?;
                map_own_artifact(&self.inner.engine, &path)?
            }
            None => deserialize_own_artifact(&self.inner.engine, artifact)?,
        };
        let prepared = self.link(sha256, &component, artifact.len())?;
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
        let path = self.artifact_path(dir, sha256);
        // Absent or unreadable: compiled again.
        let Ok((found, bytes)) = file_digest(&path) else { return Ok(None) };
        if found != digest {
            tracing::warn!(path = %path.display(), "precompiled artifact does not match its recorded digest; recompiling");
            return Ok(None);
        }
        let component = map_own_artifact(&self.inner.engine, &path)?;
        Ok(Some(self.link(sha256, &component, usize::try_from(bytes)?)?))
    }

    fn artifact_path(&self, dir: &Path, sha256: &str) -> PathBuf {
        dir.join(format!("{}.cwasm", self.artifact_key(sha256)))
    }

    fn link(
        &self,
        sha256: &str,
        component: &Component,
        artifact_bytes: usize,
    ) -> anyhow::Result<Arc<Prepared>> {
        let instance_pre = self.inner.linker.instantiate_pre(component)?;
        let weight = u32::try_from(artifact_bytes).unwrap_or(u32::MAX);
        let prepared = Arc::new(Prepared { pre: PricingPluginPre::new(instance_pre)?, weight });
        self.inner.prepared.insert(sha256.to_owned(), prepared.clone());
        Ok(prepared)
    }

    /// Runs `prepared` on `input` with `settings` (JSON text) in a fresh store, for at most
    /// `deadline`: microseconds for a well-behaved plugin. A guest computing yields to the
    /// executor every epoch tick and traps at the deadline; a guest waiting in a host call
    /// (a sleep, a poll) is unwound when its future is dropped at the deadline. Nothing it
    /// hands the host in one call (its output, a log line, a write) is copied beyond
    /// [`PluginLimits::hostcall_bytes`].
    pub async fn run(
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
        let ends_at = started + deadline;
        let _ticking = self.inner.ticker.run();
        let log = RunLog::new(limits.log_bytes, limits.log_lines);
        let mut store =
            Store::new(&self.inner.engine, RunState::new(limits.memory_bytes, log.clone()));
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.hostcall_bytes());
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= ends_at {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        let call = async {
            let plugin = prepared.pre.instantiate_async(&mut store).await?;
            plugin.call_price(&mut store, &request).await
        };
        let result = tokio::time::timeout_at(ends_at.into(), call).await;
        let duration = started.elapsed();
        let mut state = store.into_data();
        let mut report = RunReport {
            outcome: Outcome::Ok,
            pricing: None,
            error: None,
            duration,
            peak_memory: state.limiter.peak,
            output_bytes: 0,
            log: log.lines(),
        };
        let timed_out =
            || (Outcome::Timeout, format!("deadline of {} ms passed", deadline.as_millis()));
        let (outcome, why) = match result {
            Ok(Ok(Ok(breakdown))) => {
                report.output_bytes = bindings::output_size(&breakdown);
                match validate(breakdown, report.output_bytes, limits.output_bytes, input) {
                    Ok(pricing) => {
                        report.pricing = Some(pricing);
                        return report;
                    }
                    Err(why) => (Outcome::InvalidOutput, why),
                }
            }
            Ok(Ok(Err(declined))) => (Outcome::PluginError, bindings::describe(&declined)),
            Err(_waiting_in_a_host_call) => timed_out(),
            Ok(Err(err)) => match (state.limiter.refused.take(), err.downcast_ref::<Trap>()) {
                (Some(why), _) => (Outcome::MemoryLimit, why),
                (None, Some(Trap::Interrupt)) => timed_out(),
                (None, _) if format!("{err:#}").contains(HOSTCALL_FUEL_EXHAUSTED) => (
                    Outcome::InvalidOutput,
                    format!(
                        "the plugin handed the host more than {} bytes in one call (its \
                         output, a log line or a write)",
                        limits.hostcall_bytes()
                    ),
                ),
                (None, _) => (Outcome::Trap, truncate(format!("{err:#}"), 1000)),
            },
        };
        report.fail(outcome, why);
        report
    }
}

impl RunReport {
    fn fail(&mut self, outcome: Outcome, why: String) {
        self.outcome = outcome;
        self.error = Some(why);
    }
}

/// Holds a breakdown to the contract: within the output cap, decimals exactly as WIT
/// defines them, each `itemKey` naming a base item at most once, and the rules every
/// breakdown meets (callbacks too).
fn validate(
    breakdown: bindings::Breakdown,
    output_bytes: usize,
    cap: usize,
    input: &PricingInput,
) -> Result<Pricing, String> {
    if output_bytes > cap {
        return Err(format!("output of {output_bytes} bytes; the cap is {cap}"));
    }
    let items = bindings::line_items(breakdown)?;
    let base = &input.request.base_pricing.line_items;
    let keyed =
        items.iter().enumerate().filter_map(|(i, item)| Some((i, item.item_key.as_deref()?)));
    for (index, key) in keyed {
        if !base.iter().any(|b| b.item_key.as_deref() == Some(key)) {
            return Err(format!("lineItems[{index}].itemKey: no base item has this key"));
        }
    }
    price_line_items(items, &input.request.base_pricing.currency, "lineItems").map_err(|errors| {
        let shown: Vec<String> =
            errors.iter().take(5).map(|e| format!("{}: {}", e.path, e.message)).collect();
        shown.join("; ")
    })
}

/// How wasmtime says a call handed over more than the store's hostcall fuel allows.
const HOSTCALL_FUEL_EXHAUSTED: &str =
    "too much data is being copied between the host and the guest";

/// `text` cut to at most `max` bytes (on a character boundary), marked with `…`.
pub(super) fn truncate(mut text: String, max: usize) -> String {
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

/// The SHA-256 of the file at `path` and its size, streamed through the hasher.
fn file_digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), bytes))
}

// The service's two `unsafe` calls: wasmtime trusts a precompiled artifact to be its own
// output. Every caller hands them what wasmtime of this build produced from an upload —
// just now (this process or its worker's stdout), or earlier: written by this host to its
// cache directory under a name carrying the engine's compatibility hash, and checked
// against the SHA-256 recorded when it was written — so uploaded bytes never reach them,
// and an artifact of other settings is refused by wasmtime's own compatibility check.

/// Loads an artifact from memory (no cache directory: the local runner).
#[allow(unsafe_code)]
fn deserialize_own_artifact(engine: &Engine, artifact: &[u8]) -> anyhow::Result<Component> {
    // SAFETY: `artifact` is byte-for-byte what `Engine::precompile_component` of this build
    // produced (see above).
    Ok(unsafe { Component::deserialize(engine, artifact) }?)
}

/// Maps an artifact of the cache directory: its code and its memory images stay backed by
/// the file, so loading copies nothing and what a large plugin keeps resident is mostly
/// clean page cache the kernel can reclaim, not anonymous memory. The host never rewrites
/// an artifact in place (a new one is renamed over it; truncating a mapped file would
/// crash the process), and the directory is the service's own: nothing a tenant sends can
/// write there.
#[allow(unsafe_code)]
fn map_own_artifact(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: the file holds what `Engine::precompile_component` of this build produced,
    // written by `WasmHost::install` and checked against its recorded digest (see above).
    Ok(unsafe { Component::deserialize_file(engine, path) }?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindings::winfactor::pricing::types::LineItem;

    fn input() -> PricingInput {
        let base = serde_json::json!({"currency": "EUR", "subtotal": 10.0, "lineItems": [
            {"itemKey": "template:t:door", "description": "Door", "quantity": 1, "unitPrice": 10.0, "total": 10.0}
        ]});
        let event = serde_json::json!({
            "context": "live", "session": {"id": "cs_1"}, "template": {"id": "t"},
            "configuration": {"width": 1000, "height": 2000, "components": []},
            "configHash": "sha256:x", "basePricing": base,
        });
        PricingInput::from_event(&event).unwrap()
    }

    fn row(key: Option<&str>, quantity: &str) -> LineItem {
        LineItem {
            item_key: key.map(str::to_owned),
            external_ref: None,
            description: "Door".into(),
            quantity: quantity.into(),
            unit_price: "10".into(),
            item_type: None,
            sort_offset: 0,
        }
    }

    fn check(rows: Vec<LineItem>) -> Result<Pricing, String> {
        let breakdown = bindings::Breakdown { line_items: rows };
        let size = bindings::output_size(&breakdown);
        validate(breakdown, size, 1 << 20, &input())
    }

    #[test]
    fn plugin_answers_are_held_to_the_wit_contract() {
        assert!(check(vec![row(Some("template:t:door"), "2"), row(None, "1")]).is_ok());
        let unknown = check(vec![row(Some("template:t:window"), "1")]).unwrap_err();
        assert!(unknown.contains("no base item"), "{unknown}");
        let twice =
            check(vec![row(Some("template:t:door"), "1"), row(Some("template:t:door"), "1")]);
        assert!(twice.unwrap_err().contains("same itemKey"));
        let sloppy = check(vec![row(None, "1e2")]).unwrap_err();
        assert!(sloppy.contains("lineItems[0].quantity"), "{sloppy}");
        let big = bindings::Breakdown { line_items: vec![row(None, "1")] };
        assert!(validate(big, 2_000, 1_000, &input()).unwrap_err().contains("cap is 1000"));
    }
}
