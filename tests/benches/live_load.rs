//! The live loop under load (run with `cargo bench -p winfactor-tests --bench live_load`;
//! the plugin rail needs the components built, as `tests/run.sh` does; set
//! `WINFACTOR_TEST_POSTGRES_URL` for Postgres beside SQLite).
//!
//! `LIVE_LOAD_SESSIONS` sessions (default 200) are spread over the seeded organisations
//! (the demo org and the rival, each with the lift-slide door); configuration changes go to
//! them round-robin, with the debounce at zero. Per rail:
//!
//! - **base**: no plugin, no endpoint — the PUT answers `confirmed/base`;
//! - **plugin**: the `margin` plugin active in every organisation — the PUT answers
//!   `confirmed/plugin`;
//! - **webhook**: an endpoint per organisation whose receiver answers every
//!   `pricing.calculated` at once through its callback — latency runs from the change to
//!   the `confirmed` event on the session's stream.
//!
//! `LIVE_LOAD_RAILS` picks rails (comma-separated `base,plugin,webhook`; default all).
//! Each rail runs closed loop at saturation (`LIVE_LOAD_CONNECTIONS` workers, default 32,
//! each sending its next change when the previous one is answered) and open loop at a fixed
//! offered rate (latency from each change's scheduled time, so a stall is not hidden).
//! Printed: throughput, p50/p90/p99/max, CPU per change (the whole process: server, load
//! generator and receiver) and the plugin/base throughput ratio.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::Instant;
use winfactor_tests::bench::{
    answering_receiver, on_each_backend, open_loop, percentile, process_cpu_seconds,
};
use winfactor_tests::sse::SseClient;
use winfactor_tests::{Backend, TestApp};

/// How long each phase offers load.
const PHASE: Duration = Duration::from_secs(5);
/// The organisations the sessions are spread over (seeded by the test harness).
const ORGS: [&str; 2] = ["window-works", "rival-glazing"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rail {
    Base,
    Plugin,
    Webhook,
}

impl Rail {
    /// The fixed offered rate of the open-loop phase, changes per second.
    fn offered_rate(self) -> u64 {
        match self {
            Rail::Base => 2_500,
            Rail::Plugin => 2_000,
            Rail::Webhook => 1_000,
        }
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// When each configHash was confirmed on its session's stream, or who waits for it.
#[derive(Default)]
struct Confirmations {
    slots: Mutex<HashMap<String, Slot>>,
}

enum Slot {
    Confirmed(Instant),
    Waiting(oneshot::Sender<Instant>),
}

impl Confirmations {
    fn confirmed(&self, hash: String, at: Instant) {
        let mut slots = self.slots.lock().unwrap();
        match slots.remove(&hash) {
            Some(Slot::Waiting(waiter)) => _ = waiter.send(at),
            _ => _ = slots.insert(hash, Slot::Confirmed(at)),
        }
    }

    /// When `hash` is (or was) confirmed; `None` if it never is within 10 s.
    async fn wait(&self, hash: String) -> Option<Instant> {
        let receiver = {
            let mut slots = self.slots.lock().unwrap();
            if let Some(Slot::Confirmed(at)) = slots.remove(&hash) {
                return Some(at);
            }
            let (sender, receiver) = oneshot::channel();
            slots.insert(hash, Slot::Waiting(sender));
            receiver
        };
        tokio::time::timeout(Duration::from_secs(10), receiver).await.ok()?.ok()
    }
}

/// One session under load: its change URL and default configuration.
struct Target {
    url: String,
    configuration: Value,
}

/// What the load needs from one app and rail.
struct Load {
    client: reqwest::Client,
    targets: Vec<Target>,
    confirmations: Arc<Confirmations>,
    rail: Rail,
    /// Widths of consecutive changes differ, so every change has a configHash of its own.
    next: AtomicU64,
}

impl Load {
    /// One change of session `n % sessions`: its latency from `since`, if it was priced as
    /// the rail promises.
    async fn change(self: Arc<Self>, n: u64, since: Instant) -> Option<Duration> {
        let target = &self.targets[n as usize % self.targets.len()];
        let mut configuration = target.configuration.clone();
        configuration["width"] = json!(1800 + self.next.fetch_add(1, Ordering::Relaxed) % 4000);
        let response = self
            .client
            .put(&target.url)
            .json(&json!({ "configuration": configuration }))
            .send()
            .await
            .ok()?;
        let answer: Value = response.json().await.ok()?;
        match self.rail {
            Rail::Base => (answer["source"] == "base" && answer["status"] == "confirmed")
                .then(|| since.elapsed()),
            Rail::Plugin => (answer["source"] == "plugin").then(|| since.elapsed()),
            Rail::Webhook => {
                let hash = answer["configHash"].as_str()?.to_owned();
                let confirmed = self.confirmations.wait(hash).await?;
                Some(confirmed.duration_since(since))
            }
        }
    }
}

/// Prints one phase's line.
fn report(
    backend: Backend,
    rail: Rail,
    phase: &str,
    answers: &[Option<Duration>],
    secs: f64,
    cpu: f64,
) {
    let mut latencies: Vec<Duration> = answers.iter().flatten().copied().collect();
    latencies.sort();
    let failed = answers.len() - latencies.len();
    if latencies.is_empty() {
        println!("{backend:?} {rail:?} {phase}: nothing was priced ({failed} changes)");
        return;
    }
    let at = |p: f64| percentile(&latencies, p).as_secs_f64() * 1e3;
    println!(
        "{backend:?}: {:<8} {phase:<16} {:>6.0} changes/s  p50 {:>6.2} ms  p90 {:>6.2} ms  \
         p99 {:>7.2} ms  max {:>7.2} ms  CPU {:>4.0} µs/change  unpriced {failed}",
        format!("{rail:?}"),
        latencies.len() as f64 / secs,
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0),
        cpu / answers.len().max(1) as f64 * 1e6,
    );
}

/// Closed loop: `connections` workers, each sending its next change once the previous is
/// answered, for [`PHASE`]; answers the rate of priced changes.
async fn saturate(backend: Backend, load: &Arc<Load>, connections: usize) -> f64 {
    let cpu = process_cpu_seconds();
    let started = Instant::now();
    let deadline = started + PHASE;
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let load = load.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut n = worker as u64;
                while Instant::now() < deadline {
                    answers.push(load.clone().change(n, Instant::now()).await);
                    n += connections as u64;
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for worker in workers {
        answers.extend(worker.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    let phase = format!("saturation ×{connections}");
    report(backend, load.rail, &phase, &answers, secs, process_cpu_seconds() - cpu);
    answers.iter().flatten().count() as f64 / secs
}

/// Open loop at the rail's fixed offered rate.
async fn offer(backend: Backend, load: &Arc<Load>) {
    let rate = load.rail.offered_rate();
    let cpu = process_cpu_seconds();
    let started = Instant::now();
    let answers = open_loop(rate, PHASE, |n| {
        let load = load.clone();
        async move { load.change(n, Instant::now()).await }
    })
    .await;
    let secs = started.elapsed().as_secs_f64().max(PHASE.as_secs_f64());
    // The latency counts from the scheduled time (open_loop's), not from the send.
    let answers: Vec<Option<Duration>> =
        answers.into_iter().map(|(latency, priced)| priced.map(|_| latency)).collect();
    let phase = format!("offered {rate}/s");
    report(backend, load.rail, &phase, &answers, secs, process_cpu_seconds() - cpu);
}

async fn prepare(app: &TestApp, rail: Rail, sessions: usize) -> Arc<Load> {
    let keys = [app.seeded.key.clone(), app.seeded.rival_key.clone()];
    let receiver = match rail {
        Rail::Webhook => Some(answering_receiver().await),
        _ => None,
    };
    for key in &keys {
        match rail {
            Rail::Base => {}
            Rail::Plugin => {
                _ = app.activate_plugin_as(key, "margin", &json!({"default": 0.25})).await
            }
            Rail::Webhook => {
                let body = json!({ "url": receiver.as_deref().unwrap(), "events": ["pricing.calculated"] });
                let (status, endpoint) = app
                    .call(reqwest::Method::POST, "/api/v1/webhooks", Some(key), Some(&body))
                    .await;
                assert_eq!(status, 201, "{endpoint}");
            }
        }
    }
    let confirmations = Arc::new(Confirmations::default());
    let mut targets = Vec::with_capacity(sessions);
    for n in 0..sessions {
        let org = ORGS[n % ORGS.len()];
        let (status, session) = app
            .call(
                reqwest::Method::POST,
                &format!("/public/v1/orgs/{org}/configuration-sessions"),
                None,
                Some(&json!({"templateSlug": "2-panel-lift-slide"})),
            )
            .await;
        assert_eq!(status, 201, "{session}");
        if rail == Rail::Webhook {
            let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
            let confirmations = confirmations.clone();
            tokio::spawn(async move {
                while let Some(event) = stream.recv().await {
                    if event.data["status"] == "confirmed"
                        && let Some(hash) = event.data["configHash"].as_str()
                    {
                        confirmations.confirmed(hash.to_owned(), Instant::now());
                    }
                }
            });
        }
        let id = session["id"].as_str().unwrap();
        targets.push(Target {
            url: app.url(&format!("/public/v1/configuration-sessions/{id}/configuration")),
            configuration: session["configuration"].clone(),
        });
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(4096).build().unwrap();
    Arc::new(Load { client, targets, confirmations, rail, next: AtomicU64::new(0) })
}

async fn measure(backend: Backend) {
    let sessions = setting("LIVE_LOAD_SESSIONS", 200);
    let connections = setting("LIVE_LOAD_CONNECTIONS", 32);
    let chosen = std::env::var("LIVE_LOAD_RAILS").unwrap_or_default().to_lowercase();
    let rails = [Rail::Base, Rail::Plugin, Rail::Webhook].into_iter().filter(|rail| {
        chosen.is_empty()
            || chosen.split(',').any(|name| name == format!("{rail:?}").to_lowercase())
    });
    let mut rates = HashMap::new();
    for rail in rails {
        let app = TestApp::start_with(backend, |config| {
            config.pricing_debounce = Duration::ZERO;
            // One load generator opens every connection from one address.
            config.connections.max_connections_per_ip = 100_000;
        })
        .await;
        let load = prepare(&app, rail, sessions).await;
        // Warm-up: caches, connections, the plugin's instances.
        open_loop(200, Duration::from_secs(1), |n| load.clone().change(n, Instant::now())).await;
        rates.insert(format!("{rail:?}"), saturate(backend, &load, connections).await);
        offer(backend, &load).await;
        app.stop().await;
    }
    if let (Some(plugin), Some(base)) = (rates.get("Plugin"), rates.get("Base")) {
        println!("{backend:?}: plugin/base throughput at saturation {:.2}", plugin / base);
    }
}

fn main() {
    on_each_backend(measure);
}
