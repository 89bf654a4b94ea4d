//! Replicas benchmark (`cargo bench -p winfactor-tests --bench replicas`; needs
//! `WINFACTOR_TEST_POSTGRES_URL` and nginx, which `tests/run.sh` installs).
//!
//! Prints, in one run:
//! - cross-replica push latency: the organisation's callback PUT on replica B → the
//!   `confirmed` event on the customer's stream held by replica A, p50/p99, beside the same
//!   with the PUT on A (the in-process push) measured interleaved;
//! - webhook delivery throughput draining one backlog: single-node SQLite, then Postgres
//!   with one and with two worker replicas, with the CPU per delivery (this process, and
//!   the whole machine, the local Postgres server included);
//! - configuration changes/s through nginx with one and with two API replicas (closed loop).
//!
//! The replicas run in this process: each has its own store (pools, caches, notification
//! listener), live loop, delivery worker and HTTP server on its own port, and they share
//! only the database — what separates processes — and this process's two cores, as two
//! processes on this machine would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::oneshot;
use winfactor::config::Role;
use winfactor::outbox::{EventType, NewEvent, emit};
use winfactor::{Config, Store, demo};
use winfactor_tests::bench::{
    StealMeter, percentile, process_cpu_seconds, subscribe_demo_to_everything,
};
use winfactor_tests::sse::SseClient;
use winfactor_tests::{
    Backend, Nginx, Receiver, TestDatabase, open_lift_slide_session, postgres_admin_url,
};

const PUSH_SAMPLES: usize = 400;
const BACKLOG: usize = 6_000;
const CHANGE_CLIENTS: usize = 32;
const CHANGE_SECONDS: u64 = 8;

/// One in-process replica.
struct Replica {
    base: String,
    address: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Replica {
    async fn start(database_url: &str, role: Role) -> Self {
        let mut config = Config::for_database(database_url).unwrap();
        config.role = role;
        config.worker = role != Role::Api;
        config.delivery.allow_private_targets = true;
        config.delivery.concurrency = 64;
        config.delivery.endpoint_concurrency = 64;
        config.pricing_debounce = Duration::ZERO;
        config.api_rate_per_minute = u32::MAX;
        config.public_rate_per_minute = u32::MAX;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let base = format!("http://{address}");
        config.public_url = base.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(winfactor::run(config, listener, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        while !client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { base, address, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// A fresh database with the demo organisations; the demo's read-write key.
async fn seeded(backend: Backend) -> (TestDatabase, Store, String) {
    let database = TestDatabase::create(backend).await;
    let store =
        Store::open(&Config::for_database(&database.url).unwrap().database_url).await.unwrap();
    let key = demo::seed(&store).await.unwrap().expect("a fresh database").secret;
    (database, store, key)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Callback PUT on B (or on A) → `confirmed` on A's stream.
async fn push_latency() {
    let (database, _store, key) = seeded(Backend::Postgres).await;
    let a = Replica::start(&database.url, Role::All).await;
    let b = Replica::start(&database.url, Role::All).await;
    let client = reqwest::Client::new();
    let receiver = Receiver::start().await;
    let hook = json!({"url": receiver.url, "events": ["pricing.calculated"]});
    let created = client.post(format!("{}/api/v1/webhooks", a.base)).bearer_auth(&key).json(&hook);
    assert!(created.send().await.unwrap().status().is_success());
    let session = open_lift_slide_session(&client, &a.base).await;
    let id = session["id"].as_str().unwrap();
    let mut stream = SseClient::connect(
        &format!("{}/public/v1/configuration-sessions/{id}/stream", a.base),
        None,
    )
    .await;
    // The opening configuration's request first (a change before it fires supersedes it).
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let (mut cross, mut local) = (Vec::new(), Vec::new());
    for n in 0..PUSH_SAMPLES {
        let mut configuration = session["configuration"].clone();
        configuration["width"] = json!(4000 + n as i64); // each a new configuration
        let path = format!("{}/public/v1/configuration-sessions/{id}/configuration", a.base);
        let changed = client.put(path).json(&json!({ "configuration": configuration }));
        assert!(changed.send().await.unwrap().status().is_success());
        let request = receiver.wait_for(n + 2, Duration::from_secs(10)).await.remove(n + 1).json();
        let data = &request["data"];
        let hash = data["configHash"].clone();
        let callback = data["callback"]["url"].as_str().unwrap();
        let target = if n % 2 == 0 { &b } else { &a };
        let url = format!("{}{}", target.base, &callback[a.base.len()..]);
        let answer = json!({"configHash": hash, "lineItems": data["basePricing"]["lineItems"]});
        stream.drain();
        let sent = Instant::now();
        let put = client.put(url).json(&answer).send();
        let (put, _) = tokio::join!(put, async {
            stream
                .until(Duration::from_secs(10), |e| {
                    e.data["configHash"] == hash && e.data["status"] == "confirmed"
                })
                .await
        });
        let took = sent.elapsed();
        assert!(put.unwrap().status().is_success());
        if n % 2 == 0 { cross.push(took) } else { local.push(took) }
    }
    cross.sort();
    local.sort();
    println!(
        "push: callback PUT on B → SSE on A   p50 {:>6.2} ms  p99 {:>6.2} ms  ({} samples)",
        ms(percentile(&cross, 0.5)),
        ms(percentile(&cross, 0.99)),
        cross.len()
    );
    println!(
        "push: callback PUT on A → SSE on A   p50 {:>6.2} ms  p99 {:>6.2} ms  (same replica, interleaved)",
        ms(percentile(&local, 0.5)),
        ms(percentile(&local, 0.99))
    );
    println!(
        "push: what crossing replicas adds    p50 {:>6.2} ms  p99 {:>6.2} ms",
        ms(percentile(&cross, 0.5)) - ms(percentile(&local, 0.5)),
        ms(percentile(&cross, 0.99)) - ms(percentile(&local, 0.99))
    );
    a.stop().await;
    b.stop().await;
}

/// CPU seconds the whole machine has spent outside idle (every core; from `/proc/stat`):
/// the service, the local Postgres server's processes (which come and go with
/// connections, so they cannot be summed per process) and whatever else runs.
fn machine_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …: everything but idle, iowait, steal.
    let busy = [0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum::<f64>();
    busy / 100.0
}

/// Counts the deliveries it receives.
async fn counting_sink() -> (Arc<AtomicUsize>, String) {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (count, url)
}

/// Drains a backlog of `BACKLOG` lead events with `workers` worker replicas.
async fn drain(backend: Backend, workers: usize) {
    let (database, store, _) = seeded(backend).await;
    let (count, sink) = counting_sink().await;
    let org = subscribe_demo_to_everything(&store, &sink).await;
    for chunk in 0..BACKLOG / 500 {
        let mut tx = store.begin().await.unwrap();
        for n in 0..500 {
            let data = json!({"lead": {"id": format!("lead_{chunk}_{n}"), "createdAt": 1_781_186_602_000i64},
                "contact": {"name": "Bench", "email": "bench@example.com", "message": "Hello"}});
            let event = NewEvent {
                event_type: EventType::LeadCreated,
                customer_locale: None,
                data,
                expires_at: None,
            };
            emit(&mut tx, &org, event).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    store.close().await;
    let (cpu, machine_cpu) = (process_cpu_seconds(), machine_cpu_seconds());
    let started = Instant::now();
    let role = if backend == Backend::Sqlite { Role::All } else { Role::Worker };
    let mut replicas = Vec::new();
    for _ in 0..workers {
        replicas.push(Replica::start(&database.url, role).await);
    }
    while count.load(Ordering::Relaxed) < BACKLOG {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let rate = BACKLOG as f64 / started.elapsed().as_secs_f64();
    let per = |seconds: f64| seconds * 1e6 / BACKLOG as f64;
    let (cpu_us, machine_us) =
        (per(process_cpu_seconds() - cpu), per(machine_cpu_seconds() - machine_cpu));
    let name = match (backend, workers) {
        (Backend::Sqlite, _) => "SQLite, single node    ".to_owned(),
        (_, n) => format!("Postgres, {n} worker(s)   "),
    };
    println!(
        "delivery: {name} {rate:>7.0} deliveries/s  (CPU per delivery: {cpu_us:.0} µs in the \
         service (receiver included), {machine_us:.0} µs on the whole machine with the database)"
    );
    for replica in replicas {
        replica.stop().await;
    }
}

/// Configuration changes/s through nginx over `replicas` API replicas (closed loop).
async fn changes_per_second(replicas: &[&Replica]) -> f64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let upstreams: Vec<String> = replicas.iter().map(|r| r.address.clone()).collect();
    let nginx = Nginx::start(port, &upstreams).await;
    let client = reqwest::Client::new();
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(CHANGE_SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CHANGE_CLIENTS {
        let (client, done, base) = (client.clone(), done.clone(), nginx.url.clone());
        tasks.push(tokio::spawn(async move {
            let session = open_lift_slide_session(&client, &base).await;
            let id = session["id"].as_str().unwrap().to_owned();
            let url = format!("{base}/public/v1/configuration-sessions/{id}/configuration");
            let mut n = 0;
            while Instant::now() < deadline {
                let mut configuration = session["configuration"].clone();
                configuration["width"] = json!(2000 + (n % 2));
                let answer =
                    client.put(&url).json(&json!({ "configuration": configuration })).send();
                assert!(answer.await.unwrap().status().is_success());
                done.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    let started = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn through_nginx() {
    let (database, _store, _) = seeded(Backend::Postgres).await;
    let a = Replica::start(&database.url, Role::Api).await;
    let b = Replica::start(&database.url, Role::Api).await;
    let one = changes_per_second(&[&a]).await;
    let two = changes_per_second(&[&a, &b]).await;
    println!(
        "changes through nginx: 1 API replica {one:>6.0}/s, 2 API replicas {two:>6.0}/s \
         ({:.2}×; {CHANGE_CLIENTS} clients, closed loop, base pricing)",
        two / one
    );
    a.stop().await;
    b.stop().await;
}

fn main() {
    if postgres_admin_url().is_none() {
        eprintln!("set WINFACTOR_TEST_POSTGRES_URL: replicas share a Postgres database");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let steal = StealMeter::start();
    runtime.block_on(async {
        push_latency().await;
        drain(Backend::Sqlite, 1).await;
        drain(Backend::Postgres, 1).await;
        drain(Backend::Postgres, 2).await;
        through_nginx().await;
    });
    println!("{}", steal.report());
}
