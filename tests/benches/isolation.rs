//! Tenant isolation under attack (run with `cargo bench -p winfactor-tests --bench
//! isolation`; the components must be built, as `tests/run.sh` does): the demo
//! organisation's live pricing with its `margin` plugin, alone and while a second
//! organisation runs each hostile plugin at full rate, in one run.
//!
//! - The demo organisation's customers change configurations at a fixed offered rate
//!   (open loop: each latency is measured from the change's scheduled time, so a stall is
//!   not hidden), over several sessions; every answer must be `confirmed/plugin`.
//! - The attacker's customers change their configurations as fast as they can, from
//!   `ATTACKERS` concurrent connections (closed loop), with the hostile plugin active.
//!
//! Printed per phase: the demo's p50/p99/max, its p99 as a multiple of the figure alone
//! (target ≤ 2×), and what the attacker got through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use winfactor_tests::bench::{StealMeter, percentile, process_cpu_seconds};
use winfactor_tests::{Backend, TestApp, postgres_admin_url};

/// The demo's offered rate, changes per second, and how long each phase lasts.
const RATE: u64 = 200;
const PHASE: Duration = Duration::from_secs(6);
/// Sessions the demo's changes are spread over.
const SESSIONS: usize = 20;
/// The attacker's concurrent connections.
const ATTACKERS: usize = 16;
/// The hostile plugins, each one phase.
const HOSTILE: [&str; 6] = [
    "hostile-spin",
    "hostile-sleep",
    "hostile-grow",
    "hostile-alias",
    "hostile-chatter",
    "hostile-recurse",
];

async fn open_sessions(app: &TestApp, slug: &str, count: usize) -> Vec<Value> {
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        let (status, session) = app
            .call(
                reqwest::Method::POST,
                &format!("/public/v1/orgs/{slug}/configuration-sessions"),
                None,
                Some(&json!({"templateSlug": "2-panel-lift-slide"})),
            )
            .await;
        assert!(status.is_success(), "{session}");
        sessions.push(session);
    }
    sessions
}

fn change_url(app: &TestApp, session: &Value) -> String {
    app.url(&format!(
        "/public/v1/configuration-sessions/{}/configuration",
        session["id"].as_str().unwrap()
    ))
}

fn body(session: &Value, width: u64) -> Value {
    let mut configuration = session["configuration"].clone();
    configuration["width"] = json!(width);
    json!({ "configuration": configuration })
}

/// The demo's open-loop load for one phase: latencies from each change's scheduled time.
async fn demo_load(app: &TestApp, sessions: &[Value], phase: u64) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let total = RATE * PHASE.as_secs();
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let scheduled = start + Duration::from_micros(n * 1_000_000 / RATE);
        let session = &sessions[n as usize % sessions.len()];
        let (url, body) = (change_url(app, session), body(session, 2000 + phase * 10_000 + n));
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(scheduled).await;
            let answer: Value =
                client.put(url).json(&body).send().await.unwrap().json().await.unwrap();
            let latency = scheduled.elapsed();
            assert_eq!(
                (answer["status"].as_str(), answer["source"].as_str()),
                (Some("confirmed"), Some("plugin")),
                "{answer}"
            );
            latency
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    latencies.sort();
    latencies
}

/// The attacker's closed loop on `sessions` (with their change URLs) until `stop`;
/// returns the changes it got answered.
async fn attack(sessions: Vec<(String, Value)>, stop: Arc<AtomicBool>) -> u64 {
    let done = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::new();
    let workers: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(worker, (url, session))| {
            let (client, stop, done) = (client.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = body(&session, 1000 + worker as u64 * 100_000 + n);
                    let answered = client.put(&url).json(&body).send().await;
                    if answered.is_ok_and(|r| r.status().is_success()) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    done.load(Ordering::Relaxed)
}

async fn measure(backend: Backend) {
    let app = TestApp::start_with(backend, |config| config.pricing_debounce = Duration::ZERO).await;
    app.activate_plugin("margin", &json!({"default": 0.25})).await;
    let demo = open_sessions(&app, "window-works", SESSIONS).await;
    let rival_key = app.seeded.rival_key.clone();
    demo_load(&app, &demo, 0).await; // warm-up
    let mut alone_p99 = 0.0;
    for (phase, hostile) in [None].into_iter().chain(HOSTILE.map(Some)).enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        let attacker = match hostile {
            Some(component) => {
                app.activate_plugin_as(&rival_key, component, &json!({})).await;
                let sessions = open_sessions(&app, "rival-glazing", ATTACKERS).await;
                let sessions = sessions.into_iter().map(|s| (change_url(&app, &s), s)).collect();
                Some(tokio::spawn(attack(sessions, stop.clone())))
            }
            None => None,
        };
        let cpu = process_cpu_seconds();
        let started = Instant::now();
        let latencies = demo_load(&app, &demo, phase as u64 + 1).await;
        let elapsed = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let attacked = match attacker {
            Some(task) => task.await.unwrap(),
            None => 0,
        };
        let cpu_share = (process_cpu_seconds() - cpu) / elapsed / 2.0 * 100.0;
        let at = |p: f64| percentile(&latencies, p).as_secs_f64() * 1e3;
        if hostile.is_none() {
            alone_p99 = at(0.99);
        }
        println!(
            "{backend:?}: demo at {RATE}/s {:<32} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  \
             p99 {:>4.2}× alone   attacker {:>6.0} changes/s   machine CPU {cpu_share:>3.0} %",
            match hostile {
                Some(component) => format!("while a rival runs {component}"),
                None => "alone".to_owned(),
            },
            at(0.50),
            at(0.99),
            at(1.0),
            at(0.99) / alone_p99,
            attacked as f64 / elapsed,
        );
    }
    app.stop().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let steal = StealMeter::start();
    runtime.block_on(async {
        measure(Backend::Sqlite).await;
        if postgres_admin_url().is_some() {
            measure(Backend::Postgres).await;
        }
    });
    println!("{}", steal.report());
}
