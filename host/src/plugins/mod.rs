//! In-process Wasm pricing plugins.
//!
//! An organisation uploads a WebAssembly component implementing the WIT world
//! `winfactor:pricing/pricing-plugin@1.0.0` (`wit/pricing.wit`); once active, it prices
//! every configuration change before the PUT returns, in microseconds, beside (not instead
//! of) the `pricing.calculated` webhook.
//!
//! - [`check`]: the upload check (a component, within the cap, exporting `price`, importing
//!   only what the host provides), without compiling.
//! - [`host`]: the wasmtime engine (pooling allocator, epoch deadlines), the compiled
//!   caches (memory and disk) and one run in a fresh store.
//! - [`epoch`]: the ticker that moves run deadlines on, asleep while no run needs it.
//! - [`sandbox`]: what a run can reach (deny-all WASI, bounded log, memory cap).
//! - [`bindings`]: the WIT bindings, generated in this one place, and the conversions to
//!   and from WIT types.
//! - [`input`]: the request, from live state or from an event's JSON.
//! - [`runner`]: `winfactor plugin check|run` for plugin authors.
//! - [`Plugins`] (here): versions and activation over the store, compilation off the
//!   request path, run slots, and run records.

pub mod bindings;
pub mod check;
pub mod epoch;
pub mod host;
pub mod input;
pub mod limits;
pub mod runner;
pub mod sandbox;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::{Semaphore, mpsc, oneshot};

pub use check::{ComponentInfo, check_component};
pub use host::{Origin, Outcome, Prepared, RunReport, WasmHost};
pub use input::{PluginOrg, PricingInput};
pub use limits::PluginLimits;

use crate::clock::now_ms;
use crate::ids::new_sortable_id;
use crate::store::{NewPluginVersion, PluginRun, PluginVersion, Store};

/// Plugin versions, compilation and runs for the service. Cheap to clone.
#[derive(Clone)]
pub struct Plugins {
    store: Store,
    host: WasmHost,
    /// One permit per pooling-allocator slot: runs beyond wait (within their deadline).
    slots: Arc<Semaphore>,
    /// One compilation at a time, so a large upload cannot starve live pricing of CPU.
    compiling: Arc<Semaphore>,
    /// Runs to record, written in batches off the request path.
    recorder: mpsc::UnboundedSender<Recording>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins").field("limits", &self.host.limits()).finish_non_exhaustive()
    }
}

/// A run's report with how its component was obtained.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The run.
    pub report: RunReport,
    /// Warm, precompiled or compiled; `None` if the run never started.
    pub origin: Option<Origin>,
}

impl Plugins {
    /// The runtime over `store`, precompiled artifacts under `cache_dir`. Starts the run
    /// recorder (call inside the tokio runtime).
    pub fn new(store: Store, limits: PluginLimits, cache_dir: PathBuf) -> anyhow::Result<Self> {
        let (recorder, runs) = mpsc::unbounded_channel();
        tokio::spawn(record_runs(store.clone(), runs));
        Ok(Self {
            recorder,
            store,
            host: WasmHost::new(limits, Some(cache_dir))?,
            slots: Arc::new(Semaphore::new(limits.slots.max(1) as usize)),
            compiling: Arc::new(Semaphore::new(1)),
        })
    }

    /// Writes (and prunes) the runs recorded so far; a stopping server calls it before
    /// closing the store.
    pub async fn flush_runs(&self) {
        let (done, written) = oneshot::channel();
        if self.recorder.send(Recording::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// The limits runs are held to.
    pub fn limits(&self) -> PluginLimits {
        self.host.limits()
    }

    /// Stores a checked component as a new version (`compiling`) and compiles it in the
    /// background.
    pub async fn upload(
        &self,
        org_id: &str,
        name: &str,
        wasm: &[u8],
        info: &ComponentInfo,
        settings: &Value,
    ) -> anyhow::Result<PluginVersion> {
        let sha256 = crate::ids::sha256_hex(wasm);
        let new =
            NewPluginVersion { name, sha256: &sha256, wasm, imports: &info.imports, settings };
        let version = self.store.insert_plugin_version(org_id, &new).await?;
        self.spawn_compile(version.id.clone(), sha256, wasm.to_vec());
        Ok(version)
    }

    /// Compiles versions left `compiling` by a previous process.
    pub async fn resume_compiles(&self) -> anyhow::Result<()> {
        for id in self.store.compiling_plugins().await? {
            let Some(wasm) = self.store.plugin_wasm(&id).await? else { continue };
            self.spawn_compile(id, crate::ids::sha256_hex(&wasm), wasm);
        }
        Ok(())
    }

    fn spawn_compile(&self, id: String, sha256: String, wasm: Vec<u8>) {
        let plugins = self.clone();
        tokio::spawn(async move {
            let result = plugins.compile(&sha256, wasm).await;
            let outcome = match &result {
                Ok(ms) => Ok(*ms),
                Err(err) => Err(err.as_str()),
            };
            if let Err(err) = plugins.store.finish_plugin_compile(&id, outcome).await {
                tracing::error!(error = %err, plugin = %id, "recording a compilation failed");
            }
        });
    }

    /// Compiles (one at a time, on a blocking thread), records the artifact digest;
    /// returns the milliseconds taken or the reason it failed.
    async fn compile(&self, sha256: &str, wasm: Vec<u8>) -> Result<i64, String> {
        let _turn = self.compiling.acquire().await.map_err(|e| e.to_string())?;
        let started = Instant::now();
        let host = self.host.clone();
        let key = sha256.to_owned();
        let compiled = tokio::task::spawn_blocking(move || host.compile(&key, &wasm))
            .await
            .map_err(|err| err.to_string())?;
        let (_, digest) = compiled.map_err(|err| format!("{err:#}"))?;
        let elapsed = started.elapsed().as_millis() as i64;
        self.store
            .record_artifact(&self.host.artifact_key(sha256), &digest)
            .await
            .map_err(|err| err.to_string())?;
        Ok(elapsed)
    }

    /// The version's prepared component: from memory, from the disk cache (digest
    /// checked), or compiled now.
    async fn prepared(&self, version: &PluginVersion) -> Result<(Arc<Prepared>, Origin), String> {
        if let Some(prepared) = self.host.warm(&version.sha256) {
            return Ok((prepared, Origin::Warm));
        }
        if version.status != "ready" {
            return Err(format!("version {} is {}", version.id, version.status));
        }
        let key = self.host.artifact_key(&version.sha256);
        if let Some(digest) = self.store.artifact_digest(&key).await.map_err(|e| e.to_string())? {
            let host = self.host.clone();
            let sha256 = version.sha256.clone();
            let loaded =
                tokio::task::spawn_blocking(move || host.load_precompiled(&sha256, &digest))
                    .await
                    .map_err(|err| err.to_string())?
                    .map_err(|err| format!("{err:#}"))?;
            if let Some(prepared) = loaded {
                return Ok((prepared, Origin::Precompiled));
            }
        }
        let wasm = self
            .store
            .plugin_wasm(&version.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the version was deleted")?;
        self.compile(&version.sha256, wasm).await?;
        let prepared = self.host.warm(&version.sha256).ok_or("compiled component was evicted")?;
        Ok((prepared, Origin::Compiled))
    }

    /// Runs `version` on `input` within what is left of `budget` (the customer's), capped
    /// by the plugin budget: waits for a run slot within that deadline, runs on a blocking
    /// thread.
    pub async fn evaluate(
        &self,
        version: &PluginVersion,
        input: PricingInput,
        budget: Duration,
    ) -> Evaluation {
        let started = Instant::now();
        let (prepared, origin) = match self.prepared(version).await {
            Ok(found) => found,
            Err(why) => {
                return Evaluation {
                    report: RunReport::not_run(Outcome::Unavailable, why),
                    origin: None,
                };
            }
        };
        // The run's own clock starts once the component is ready (loading or compiling it
        // is not the plugin's time), within what is left of the customer's budget.
        let deadline = budget.saturating_sub(started.elapsed()).min(self.host.limits().budget);
        let waiting = Instant::now();
        let Ok(Ok(permit)) =
            tokio::time::timeout(deadline, self.slots.clone().acquire_owned()).await
        else {
            let why = "every run slot stayed busy until the deadline".to_owned();
            return Evaluation { report: RunReport::not_run(Outcome::Busy, why), origin: None };
        };
        let remaining = deadline.saturating_sub(waiting.elapsed()).max(Duration::from_millis(1));
        let host = self.host.clone();
        let settings = version.settings.to_string();
        let run = move || {
            let _permit = permit;
            host.run(&prepared, &input, &settings, remaining)
        };
        let report = match tokio::runtime::Handle::current().runtime_flavor() {
            // Run right here (no hop to another thread: on a small VM, waking one costs
            // more than the run); the runtime hands this worker's other tasks to a fresh
            // thread, so a plugin that spins to its deadline stalls nobody else.
            RuntimeFlavor::MultiThread => tokio::task::block_in_place(run),
            _ => tokio::task::spawn_blocking(run)
                .await
                .unwrap_or_else(|err| RunReport::not_run(Outcome::Trap, err.to_string())),
        };
        Evaluation { report, origin: Some(origin) }
    }

    /// Records a run in the background (the caller's answer does not wait for it; runs are
    /// written in batches, so a crash may lose the last few milliseconds of run records).
    pub fn record(
        &self,
        org_id: &str,
        version: &PluginVersion,
        session_id: Option<&str>,
        context: &str,
        evaluation: &Evaluation,
    ) -> PluginRun {
        let report = &evaluation.report;
        let run = PluginRun {
            id: new_sortable_id("prun"),
            plugin_id: version.id.clone(),
            session_id: session_id.map(str::to_owned),
            context: context.to_owned(),
            outcome: report.outcome.as_str().to_owned(),
            error: report.error.clone(),
            origin: evaluation.origin.map(|origin| origin.as_str().to_owned()),
            duration_us: report.duration.as_micros() as i64,
            peak_memory_bytes: report.peak_memory as i64,
            output_bytes: report.output_bytes as i64,
            log: report.log.clone(),
            created_at: now_ms(),
        };
        if report.outcome != Outcome::Ok {
            tracing::warn!(plugin = %version.id, outcome = run.outcome, error = ?run.error, "plugin run failed");
        }
        let _ = self.recorder.send(Recording::Run(org_id.to_owned(), Box::new(run.clone())));
        run
    }
}

/// Most runs gathered per write.
const RECORD_BATCH: usize = 256;
/// Most runs per transaction: each holds the single writer for well under a millisecond, so
/// a customer's live change never queues long behind the run log.
const RUNS_PER_TRANSACTION: usize = 16;
/// How long the recorder gathers runs before writing them.
const RECORD_DELAY: Duration = Duration::from_millis(100);
/// How often, at most, the run log is pruned to each version's newest runs (ranking a
/// version's runs takes about a millisecond of the single writer: not for every batch).
const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// What the run recorder is sent.
enum Recording {
    /// A run of an organisation's plugin, to store.
    Run(String, Box<PluginRun>),
    /// Store what has been gathered, then answer (a stopping server, before the store closes).
    Flush(oneshot::Sender<()>),
}

/// Writes queued runs in batches (gathered for [`RECORD_DELAY`]): one commit serves a
/// burst of live prices instead of one commit each competing with the customers' writes.
/// The versions that ran are pruned to their newest runs [`PRUNE_EVERY`] after the last
/// prune (at once on a flush, and when the recorder stops): a version may hold a few
/// seconds' runs beyond the bound meanwhile.
async fn record_runs(store: Store, mut inbox: mpsc::UnboundedReceiver<Recording>) {
    let mut received = Vec::with_capacity(RECORD_BATCH);
    let (mut runs, mut flushed) = (Vec::with_capacity(RECORD_BATCH), Vec::new());
    let mut unpruned: BTreeSet<String> = BTreeSet::new();
    let mut prune_at = tokio::time::Instant::now() + PRUNE_EVERY;
    loop {
        tokio::select! {
            count = inbox.recv_many(&mut received, RECORD_BATCH) => if count == 0 { break },
            _ = tokio::time::sleep_until(prune_at), if !unpruned.is_empty() => {
                prune_runs(&store, &mut unpruned).await;
                prune_at = tokio::time::Instant::now() + PRUNE_EVERY;
                continue;
            }
        }
        if !received.iter().any(|message| matches!(message, Recording::Flush(_))) {
            tokio::time::sleep(RECORD_DELAY).await;
            let room = RECORD_BATCH.saturating_sub(received.len());
            if room > 0 && !inbox.is_empty() {
                inbox.recv_many(&mut received, room).await;
            }
        }
        for message in received.drain(..) {
            match message {
                Recording::Run(org_id, run) => runs.push((org_id, *run)),
                Recording::Flush(done) => flushed.push(done),
            }
        }
        for chunk in runs.chunks(RUNS_PER_TRANSACTION) {
            if let Err(err) = store.insert_plugin_runs(chunk).await {
                tracing::warn!(error = %err, runs = chunk.len(), "recording plugin runs failed");
            }
        }
        if unpruned.is_empty() {
            prune_at = tokio::time::Instant::now() + PRUNE_EVERY;
        }
        unpruned.extend(runs.drain(..).map(|(_, run)| run.plugin_id));
        if !flushed.is_empty() {
            prune_runs(&store, &mut unpruned).await;
        }
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
    prune_runs(&store, &mut unpruned).await;
}

/// Prunes the `versions` that ran since the last prune; a failed prune keeps them for the
/// next.
async fn prune_runs(store: &Store, versions: &mut BTreeSet<String>) {
    if versions.is_empty() {
        return;
    }
    let pending: Vec<String> = versions.iter().cloned().collect();
    match store.prune_plugin_runs(&pending).await {
        Ok(()) => versions.clear(),
        Err(err) => tracing::warn!(error = %err, "pruning plugin runs failed; retrying later"),
    }
}
