//! Tenant isolation under attack (run with `cargo bench -p winfactor-tests --bench
//! isolation`; the components must be built, as `tests/run.sh` does): the demo
//! organisation's live pricing with its `margin` plugin, alone and while a second
//! organisation runs each hostile plugin at full rate, in one run.
//!
//! - The demo organisation's customers change configurations at a fixed offered rate
//!   (open loop: each latency is measured from the change's scheduled time, so a stall is
//!   not hidden), over several sessions; every answer must be `confirmed/plugin`.
//! - The attacker's customers change their configurations from `ATTACKERS` connections,
//!   with the hostile plugin active, in two modes: *paced* at the demo's own rate (what the
//!   plugin does to others, request volume aside) and *full* (closed loop, as fast as the
//!   answers come). The well-behaved `margin` plugin in the attacker's place, in both modes,
//!   is the control: what sharing the machine with a busy organisation costs anyway.
//!
//! Printed per phase: the demo's p50/p99/max, its p99 as a multiple of the figure alone
//! (target ≤ 2×) and of the control in the same mode, and what the attacker got through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use winfactor_tests::bench::{on_each_backend, open_loop, percentile, process_cpu_seconds};
use winfactor_tests::{Backend, TestApp};

/// The demo's offered rate, changes per second, and how long each phase lasts.
const RATE: u64 = 200;
const PHASE: Duration = Duration::from_secs(6);
/// Sessions the demo's changes are spread over.
const SESSIONS: usize = 20;
/// The attacker's concurrent connections.
const ATTACKERS: usize = 16;
/// The attacker's plugins, each two phases (paced, full); `margin` is the control, `none`
/// (base pricing, no plugin) shows what the attacker's changes cost without any plugin.
const ATTACKS: [&str; 8] = [
    "none",
    "margin",
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

/// A width the template accepts (1 800–6 000 mm), different for consecutive `n`.
fn width(n: u64) -> u64 {
    1800 + n % 4000
}

fn body(session: &Value, width: u64) -> Value {
    let mut configuration = session["configuration"].clone();
    configuration["width"] = json!(width);
    json!({ "configuration": configuration })
}

/// The demo's open-loop load for one phase: latencies from each change's scheduled time,
/// and how many changes were not priced by the demo's plugin (`confirmed/plugin`).
async fn demo_load(app: &TestApp, sessions: &[Value], phase: u64) -> (Vec<Duration>, usize) {
    let client = reqwest::Client::new();
    let answers = open_loop(RATE, PHASE, |n| {
        let session = &sessions[n as usize % sessions.len()];
        let (url, body) = (change_url(app, session), body(session, width(phase * 7 + n)));
        let client = client.clone();
        async move {
            let answer: Value =
                client.put(url).json(&body).send().await.unwrap().json().await.unwrap();
            answer["status"] == "confirmed" && answer["source"] == "plugin"
        }
    })
    .await;
    let unpriced = answers.iter().filter(|(_, priced)| !priced).count();
    let mut latencies: Vec<Duration> = answers.into_iter().map(|(latency, _)| latency).collect();
    latencies.sort();
    (latencies, unpriced)
}

/// The attacker's loop on `sessions` (with their change URLs) until `stop`, each worker
/// waiting at least `pace` between changes; returns the changes it got answered.
async fn attack(sessions: Vec<(String, Value)>, pace: Duration, stop: Arc<AtomicBool>) -> u64 {
    let done = Arc::new(AtomicU64::new(0));
    // The attacker's customers come from an address of their own.
    let client = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let workers: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(worker, (url, session))| {
            let (client, stop, done) = (client.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                let mut n = 0;
                let mut next = tokio::time::Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep_until(next).await;
                    next += pace;
                    n += 1;
                    let body = body(&session, width(worker as u64 * 37 + n));
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
    let app = TestApp::start_with(backend, |config| {
        config.pricing_debounce = Duration::ZERO;
        // The load generator is one client address opening many connections.
        config.connections.max_connections_per_ip = 100_000;
    })
    .await;
    app.activate_plugin("margin", &json!({"default": 0.25})).await;
    let demo = open_sessions(&app, "window-works", SESSIONS).await;
    let rival_key = app.seeded.rival_key.clone();
    demo_load(&app, &demo, 0).await; // warm-up
    let mut alone_p99 = 0.0;
    let mut control_p99 = [0.0; 2];
    let modes = [
        ("paced", ATTACKERS as u32 * Duration::from_secs(1) / RATE as u32),
        ("full", Duration::ZERO),
    ];
    let phases = [None].into_iter().chain(
        ATTACKS
            .into_iter()
            .flat_map(|plugin| modes.into_iter().enumerate().map(move |m| Some((plugin, m)))),
    );
    let mut active = None;
    for (phase, attack_mode) in phases.enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        let attacker = match attack_mode {
            Some((plugin, (_, (_, pace)))) => {
                if active != Some(plugin) && plugin != "none" {
                    let settings =
                        if plugin == "margin" { json!({"default": 0.1}) } else { json!({}) };
                    app.activate_plugin_as(&rival_key, plugin, &settings).await;
                    active = Some(plugin);
                }
                let sessions = open_sessions(&app, "rival-glazing", ATTACKERS).await;
                let sessions = sessions.into_iter().map(|s| (change_url(&app, &s), s)).collect();
                Some(tokio::spawn(attack(sessions, pace, stop.clone())))
            }
            None => None,
        };
        let cpu = process_cpu_seconds();
        let started = Instant::now();
        let (latencies, unpriced) = demo_load(&app, &demo, phase as u64 + 1).await;
        let elapsed = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let attacked = match attacker {
            Some(task) => task.await.unwrap(),
            None => 0,
        };
        let cpu_share = (process_cpu_seconds() - cpu) / elapsed / 2.0 * 100.0;
        let at = |p: f64| percentile(&latencies, p).as_secs_f64() * 1e3;
        let (label, versus_control) = match attack_mode {
            None => {
                alone_p99 = at(0.99);
                ("alone".to_owned(), String::new())
            }
            Some((plugin, (mode, (name, _)))) => {
                if plugin == "margin" {
                    control_p99[mode] = at(0.99);
                }
                let versus = match plugin {
                    "none" => String::new(),
                    _ => format!("{:>5.2}× control", at(0.99) / control_p99[mode]),
                };
                (format!("rival {name:<5} {plugin}"), versus)
            }
        };
        println!(
            "{backend:?}: demo at {RATE}/s, {label:<29} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  \
             p99 {:>5.2}× alone {versus_control:<15} not plugin-priced {unpriced:>3}  \
             rival {:>5.0} changes/s  CPU {cpu_share:>3.0} %",
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
    on_each_backend(measure);
}
