//! In-process Wasm pricing plugins.
//!
//! An organisation uploads a WebAssembly component implementing the WIT world
//! `winfactor:pricing/pricing-plugin@1.0.0` (`wit/pricing.wit`); once active, it prices
//! every configuration change before the PUT returns, in microseconds, beside (not instead
//! of) the `pricing.calculated` webhook.
//!
//! - [`limits`]: every limit, with its default.
//! - [`check`]: the upload check (a component, within the cap, exporting `price`, importing
//!   only what the host provides), without compiling.
//! - [`compile_queue`]: uploads waiting to compile, fairly between organisations.
//! - [`compiler`]: compilation in a worker process, under time and memory limits.
//! - [`host`]: the wasmtime engine (pooling allocator, epoch deadlines), the compiled
//!   caches (memory and disk) and one run in a fresh store, over by its deadline.
//! - [`epoch`]: the ticker that moves run deadlines on, asleep while no run needs it.
//! - [`sandbox`]: what a run can reach (deny-all WASI, memory cap); [`run_log`]: its
//!   bounded log.
//! - [`shares`]: each organisation's share of the run slots and of plugin time.
//! - [`threads`]: the threads runs execute on, apart from the HTTP workers.
//! - [`bindings`]: the WIT bindings, generated in this one place, and the conversions to
//!   and from WIT types.
//! - [`input`]: the request, from live state or from an event's JSON.
//! - [`runner`]: `winfactor plugin check|run` for plugin authors.
//! - [`Plugins`] (here): versions and activation over the store, the compile loop, runs
//!   within their shares, and run records.

pub mod authoring;
pub mod bindings;
pub mod check;
pub mod compile_queue;
pub mod compiler;
pub mod epoch;
pub mod host;
pub mod input;
pub mod limits;
pub mod run_log;
pub mod runner;
pub mod sandbox;
pub mod shares;
pub mod threads;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};

pub use check::{ComponentInfo, check_component};
pub use compiler::{CompilerCommand, compile_worker};
pub use host::{Origin, Outcome, Prepared, RunReport, WasmHost};
pub use input::{PluginOrg, PricingInput};
pub use limits::PluginLimits;

use crate::clock::now_ms;
use crate::ids::new_sortable_id;
use crate::orgs::Org;
use crate::store::{
    NewPluginVersion, PluginRun, PluginStatus, PluginVersion, StorageRefusal, Store,
};
use compile_queue::{CompileQueue, Job};
use shares::{Metered, OrgShares};
use threads::RunThreads;

/// Plugin versions, compilation and runs for the service. Cheap to clone.
#[derive(Clone)]
pub struct Plugins {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    host: WasmHost,
    /// One permit per pooling-allocator slot: runs beyond wait (within their deadline).
    slots: Arc<Semaphore>,
    /// Each organisation's share of the slots and of plugin time.
    shares: OrgShares,
    /// Where runs execute.
    threads: RunThreads,
    /// Uploads waiting to compile.
    queue: Arc<CompileQueue>,
    /// The compile worker; `None` compiles in this process (no memory limit: embedders).
    compiler: Option<CompilerCommand>,
    /// Runs to record, written in batches off the request path.
    recorder: mpsc::UnboundedSender<Recording>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins").field("limits", &self.limits()).finish_non_exhaustive()
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

/// Why an upload was not stored.
#[derive(Debug)]
pub enum UploadError {
    /// The organisation's stored versions or bytes would pass their limit.
    Storage(StorageRefusal),
    /// Anything else.
    Internal(anyhow::Error),
}

impl Plugins {
    /// The runtime over `store`, precompiled artifacts under `cache_dir`, compiling with
    /// `compiler` (or in this process). Starts the compile loop and the run recorder (call
    /// inside the tokio runtime).
    pub fn new(
        store: Store,
        limits: PluginLimits,
        cache_dir: PathBuf,
        compiler: Option<CompilerCommand>,
    ) -> anyhow::Result<Self> {
        let (recorder, runs) = mpsc::unbounded_channel();
        tokio::spawn(record_runs(store.clone(), runs));
        let queue = Arc::new(CompileQueue::default());
        let inner = Arc::new(Inner {
            recorder,
            store,
            host: WasmHost::new(limits, Some(cache_dir))?,
            slots: Arc::new(Semaphore::new(limits.slots.max(1) as usize)),
            shares: OrgShares::new(limits),
            threads: RunThreads::new(limits.threads)?,
            queue: queue.clone(),
            compiler,
        });
        tokio::spawn(compile_loop(queue, Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// Writes (and prunes) the runs recorded so far; a stopping server calls it before
    /// closing the store.
    pub async fn flush_runs(&self) {
        let (done, written) = oneshot::channel();
        if self.inner.recorder.send(Recording::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// The limits runs are held to.
    pub fn limits(&self) -> PluginLimits {
        self.inner.host.limits()
    }

    /// Stores a checked component as a new version (`queued`) within the organisation's
    /// storage limits (the server's, lowered by its plan's), and queues its compilation.
    pub async fn upload(
        &self,
        org: &Org,
        name: &str,
        wasm: &[u8],
        info: &ComponentInfo,
        settings: &Value,
    ) -> Result<PluginVersion, UploadError> {
        let sha256 = crate::ids::sha256_hex(wasm);
        let new =
            NewPluginVersion { name, sha256: &sha256, wasm, imports: &info.imports, settings };
        let limits = self.limits();
        let plan = org.features();
        let org_id = org.id.as_str();
        let mut version = self
            .inner
            .store
            .insert_plugin_version(
                org_id,
                &new,
                limits.org_max_versions.min(plan.max_plugin_versions),
                limits.org_max_stored_bytes.min(plan.max_plugin_stored_bytes),
            )
            .await
            .map_err(UploadError::Internal)?
            .map_err(UploadError::Storage)?;
        self.queue_compile(org_id, &version.id, &sha256, None);
        version.queue_position = self.inner.queue.position(&version.id);
        Ok(version)
    }

    /// Where `version` waits in the compile queue (1: next), if it does in this process.
    pub fn queue_position(&self, version_id: &str) -> Option<usize> {
        self.inner.queue.position(version_id)
    }

    /// Queues the versions a previous process left `queued` or `compiling`.
    pub async fn resume_compiles(&self) -> anyhow::Result<()> {
        for (org_id, id, sha256) in self.inner.store.uncompiled_plugins().await? {
            self.queue_compile(&org_id, &id, &sha256, None);
        }
        Ok(())
    }

    fn queue_compile(
        &self,
        org_id: &str,
        version_id: &str,
        sha256: &str,
        done: Option<oneshot::Sender<Result<(), String>>>,
    ) {
        self.inner.queue.push(Job {
            org_id: org_id.to_owned(),
            version_id: version_id.to_owned(),
            sha256: sha256.to_owned(),
            first: done.is_none(),
            done,
        });
        crate::telemetry::plugin_compile_queue(self.inner.queue.len());
    }

    /// Does one job of the queue: the version's first compilation (its status follows) or
    /// one this process needs for a run.
    async fn compile_job(&self, job: Job) {
        let store = &self.inner.store;
        if job.first
            && let Err(err) = store.start_plugin_compile(&job.version_id).await
        {
            tracing::error!(error = %err, plugin = %job.version_id, "recording a compilation start failed");
        }
        let started = Instant::now();
        let result = self.compile(&job.version_id, &job.sha256).await;
        crate::telemetry::plugin_compiled(result.is_ok(), started.elapsed());
        crate::telemetry::plugin_compile_queue(self.inner.queue.len());
        if job.first {
            let outcome = match &result {
                Ok(()) => Ok(started.elapsed().as_millis() as i64),
                Err(why) => Err(why.as_str()),
            };
            if let Err(err) = store.finish_plugin_compile(&job.version_id, outcome).await {
                tracing::error!(error = %err, plugin = %job.version_id, "recording a compilation failed");
            }
        }
        if let Err(why) = &result {
            tracing::warn!(plugin = %job.version_id, org = %job.org_id, error = %why, "plugin compilation failed");
        }
        if let Some(done) = job.done {
            let _ = done.send(result);
        }
    }

    /// Compiles a version's component (in the worker, within the compile limits), installs
    /// the artifact and records its digest.
    async fn compile(&self, version_id: &str, sha256: &str) -> Result<(), String> {
        let inner = &self.inner;
        if inner.host.warm(sha256).is_some() {
            return Ok(());
        }
        let wasm = inner
            .store
            .plugin_wasm(version_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the version was deleted")?;
        let limits = self.limits();
        let timeout = limits.compile_timeout_for(wasm.len());
        let artifact = match &inner.compiler {
            Some(command) => {
                compiler::compile_in_worker(command, wasm, timeout, limits.compile_memory_bytes)
                    .await?
            }
            None => self.compile_here(wasm, timeout).await?,
        };
        let host = inner.host.clone();
        let key = sha256.to_owned();
        let (_, digest) = tokio::task::spawn_blocking(move || host.install(&key, &artifact))
            .await
            .map_err(|err| err.to_string())?
            .map_err(|err| format!("{err:#}"))?;
        inner
            .store
            .record_artifact(&inner.host.artifact_key(sha256), &digest)
            .await
            .map_err(|err| err.to_string())
    }

    /// Compiles in this process, off the async runtime; past `timeout` the compilation is
    /// abandoned (it finishes on its thread, unused).
    async fn compile_here(&self, wasm: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, String> {
        let host = self.inner.host.clone();
        let compiling = tokio::task::spawn_blocking(move || host.precompile(&wasm));
        match tokio::time::timeout(timeout, compiling).await {
            Ok(joined) => joined.map_err(|err| err.to_string())?.map_err(|err| format!("{err:#}")),
            Err(_) => {
                Err(format!("compilation took longer than the limit of {} s", timeout.as_secs()))
            }
        }
    }

    /// The version's prepared component: from memory, from the disk cache (digest
    /// checked), or compiled now through the queue.
    async fn prepared(
        &self,
        org_id: &str,
        version: &PluginVersion,
    ) -> Result<(Arc<Prepared>, Origin), String> {
        let inner = &self.inner;
        if let Some(prepared) = inner.host.warm(&version.sha256) {
            return Ok((prepared, Origin::Warm));
        }
        if version.status != PluginStatus::Ready {
            return Err(format!("version {} is {}", version.id, version.status));
        }
        let key = inner.host.artifact_key(&version.sha256);
        if let Some(digest) = inner.store.artifact_digest(&key).await.map_err(|e| e.to_string())? {
            let host = inner.host.clone();
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
        let (done, compiled) = oneshot::channel();
        self.queue_compile(org_id, &version.id, &version.sha256, Some(done));
        compiled.await.map_err(|_| "the compile queue stopped".to_owned())??;
        let prepared = inner.host.warm(&version.sha256).ok_or("compiled component was evicted")?;
        Ok((prepared, Origin::Compiled))
    }

    /// Runs `version` of `org_id` on `input` within what is left of `budget` (the
    /// customer's), capped by the plugin budget: waits for the organisation's share and a
    /// run slot within that deadline, runs on the run threads, charges the time it took.
    pub async fn evaluate(
        &self,
        org_id: &str,
        version: &PluginVersion,
        input: PricingInput,
        budget: Duration,
    ) -> Evaluation {
        let started = Instant::now();
        let not_run = |outcome, why: String| Evaluation {
            report: RunReport::not_run(outcome, why),
            origin: None,
        };
        let (prepared, origin) = match self.prepared(org_id, version).await {
            Ok(found) => found,
            Err(why) => return not_run(Outcome::Unavailable, why),
        };
        // The run's own clock starts once the component is ready (loading or compiling it
        // is not the plugin's time), within what is left of the customer's budget.
        let inner = &self.inner;
        let deadline = budget.saturating_sub(started.elapsed()).min(self.limits().budget);
        let until = Instant::now() + deadline;
        let share = match inner.shares.admit(org_id, until).await {
            Ok(share) => share,
            Err(why) => return not_run(Outcome::Busy, why),
        };
        let Ok(Ok(slot)) =
            tokio::time::timeout_at(until.into(), inner.slots.clone().acquire_owned()).await
        else {
            let why = "every run slot stayed busy until the deadline".to_owned();
            return not_run(Outcome::Busy, why);
        };
        let remaining =
            until.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let host = inner.host.clone();
        let settings = version.settings.to_string();
        let run = async move {
            let _slot = slot;
            host.run(&prepared, &input, &settings, remaining).await
        };
        let Some((report, spent)) = inner.threads.run(Metered::new(run)).await else {
            return not_run(Outcome::Trap, "the run threads stopped".to_owned());
        };
        share.charge(spent);
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
        crate::telemetry::plugin_run(&run.outcome, report.duration);
        if report.outcome != Outcome::Ok {
            tracing::warn!(plugin = %version.id, org = %org_id, session = ?run.session_id,
                outcome = run.outcome, error = ?run.error, "plugin run failed");
        }
        let _ = self.inner.recorder.send(Recording::Run(org_id.to_owned(), Box::new(run.clone())));
        run
    }
}

/// Compiles queued jobs one at a time until the service's [`Plugins`] are gone.
async fn compile_loop(queue: Arc<CompileQueue>, plugins: Weak<Inner>) {
    loop {
        let job = queue.next().await;
        let Some(inner) = plugins.upgrade() else { return };
        Plugins { inner }.compile_job(job).await;
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
