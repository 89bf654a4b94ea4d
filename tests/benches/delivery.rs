//! Webhook delivery benchmark (run with `cargo bench -p winfactor-tests --bench delivery`).
//!
//! Prints, in one run against one local receiver:
//! - the raw rate of plain POSTs (same client concurrency, the same body as the deliveries),
//!   measured right before and right after each drain: the baseline is their mean;
//! - sustained outbox → receiver deliveries/s with durability on (SQLite WAL,
//!   synchronous=FULL; every claim and result committed), and its ratio to the baseline.
//!   Sustained: measured once the first tenth of the backlog has arrived, as the baseline
//!   is measured after a warm-up run (until then the worker starts, opens its 64
//!   connections and prepares its statements); the whole drain's rate, start-up included,
//!   is printed beside it;
//! - commit → receipt latency p50/p99 for the queued lane and the fast lane.
//!
//! Set `WINFACTOR_TEST_POSTGRES_URL` to repeat the outbox figures on Postgres.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde_json::json;
use winfactor::orgs::Org;
use winfactor::outbox::{DeliveryLog, EventType, NewEvent, emit};
use winfactor::{Config, Store, demo};
use winfactor_tests::bench::{
    StealMeter, percentile, process_bytes_written, process_cpu_seconds,
    subscribe_demo_to_everything, threads_cpu_seconds,
};
use winfactor_tests::{Backend, TestDatabase, postgres_admin_url};

/// Events drained in the throughput figure (`DELIVERY_BENCH_BACKLOG` overrides, e.g. for
/// profiling a longer drain; a multiple of 500).
fn backlog() -> usize {
    std::env::var("DELIVERY_BENCH_BACKLOG").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}
const LATENCY_SAMPLES: usize = 400;
/// Thread names (as Linux keeps them) of sqlx's SQLite connections and of tokio's workers,
/// for the drain's CPU split.
const DATABASE_THREADS: &str = "sqlx-sqlite";
const ASYNC_THREADS: &str = "tokio-rt-worker";
const CONCURRENCY: usize = 64;

/// Counts requests and, while `timing` is on, notes when each delivery id first arrived
/// (off during the baseline and the drain, so neither pays for the bench's bookkeeping).
#[derive(Default)]
struct Sink {
    count: AtomicUsize,
    timing: AtomicBool,
    arrivals: Mutex<HashMap<String, Instant>>,
}

async fn start_sink() -> (Arc<Sink>, String) {
    let sink = Arc::new(Sink::default());
    let shared = sink.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, _body: axum::body::Bytes| {
            let sink = shared.clone();
            async move {
                let now = Instant::now();
                sink.count.fetch_add(1, Ordering::Relaxed);
                if !sink.timing.load(Ordering::Relaxed) {
                    return "ok";
                }
                if let Some(id) = headers.get("x-winfactor-delivery").and_then(|v| v.to_str().ok())
                {
                    sink.arrivals.lock().unwrap().entry(id.to_owned()).or_insert(now);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (sink, url)
}

async fn wait_count(sink: &Sink, target: usize) {
    while sink.count.load(Ordering::Relaxed) < target {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Plain POSTs of `body`, `CONCURRENCY` at a time: the baseline rate.
async fn raw_rate(url: &str, body: &str, requests: usize) -> (f64, f64) {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let cpu = process_cpu_seconds();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, next, url, body) =
                (client.clone(), next.clone(), url.to_owned(), body.to_owned());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let cpu_us = (process_cpu_seconds() - cpu) * 1e6 / requests as f64;
    (requests as f64 / started.elapsed().as_secs_f64(), cpu_us)
}

fn lead_event(n: usize, fast: bool) -> NewEvent {
    let data = json!({
        "lead": { "id": format!("lead_bench{n}"), "createdAt": 1_781_186_602_000i64 },
        "contact": { "name": "Bench Mark", "email": "bench@example.com", "phone": "+31 6 1234 5678",
            "message": "I am interested in custom sliding doors for my showroom.", "messagePreview": "I am…" },
        "urls": { "leadsPage": "http://127.0.0.1/api/v1/leads?status=new" },
    });
    NewEvent {
        event_type: if fast { EventType::PricingCalculated } else { EventType::LeadCreated },
        customer_locale: Some("en".into()),
        data,
        expires_at: fast.then(|| winfactor::clock::now_ms() + 10_000),
    }
}

async fn outbox_figures(backend: Backend, sink_url: &str, sink: &Arc<Sink>) {
    let database = TestDatabase::create(backend).await;
    let mut config = Config::for_database(&database.url).unwrap();
    config.delivery.allow_private_targets = true;
    config.delivery.concurrency = CONCURRENCY;
    config.delivery.endpoint_concurrency = CONCURRENCY;
    let store = Store::open(&config.database_url).await.unwrap();
    demo::seed(&store).await.unwrap();
    let org: Org = subscribe_demo_to_everything(&store, sink_url).await;

    // A backlog committed before the worker starts, then drained: sustained deliveries/s.
    let mut last_event = String::new();
    for chunk in 0..backlog() / 500 {
        let mut tx = store.begin().await.unwrap();
        for n in 0..500 {
            last_event = emit(&mut tx, &org, lead_event(chunk * 500 + n, false)).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    let (event, _) = store.event(&org.id, &last_event).await.unwrap().unwrap();
    raw_rate(sink_url, &event.payload, 2_000).await; // warm-up
    let (raw_before, raw_cpu_before) = raw_rate(sink_url, &event.payload, 20_000).await;
    if backend == Backend::Sqlite {
        // Fold the loading phase's WAL into the database first, so checkpointing the
        // backlog's inserts is not billed to the drain.
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&database.url).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let before = sink.count.load(Ordering::Relaxed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(winfactor::serve(config, store.clone(), listener, async move {
        let _ = stopped.await;
    }));
    let spawned = Instant::now();
    eprintln!("draining {} deliveries", backlog());
    let warm_up = backlog() / 10;
    wait_count(sink, before + warm_up).await;
    let started = Instant::now();
    let (cpu, written) = (process_cpu_seconds(), process_bytes_written());
    let (database_cpu, async_cpu) =
        (threads_cpu_seconds(DATABASE_THREADS), threads_cpu_seconds(ASYNC_THREADS));
    wait_count(sink, before + backlog()).await;
    let measured = backlog() - warm_up;
    let drained = measured as f64 / started.elapsed().as_secs_f64();
    let whole_drain = backlog() as f64 / spawned.elapsed().as_secs_f64();
    let per_delivery_us = |seconds: f64| seconds * 1e6 / measured as f64;
    let cpu_us = per_delivery_us(process_cpu_seconds() - cpu);
    let database_us = per_delivery_us(threads_cpu_seconds(DATABASE_THREADS) - database_cpu);
    let async_us = per_delivery_us(threads_cpu_seconds(ASYNC_THREADS) - async_cpu);
    let written = (process_bytes_written() - written) / measured as f64 / 1024.0;
    // The machine's speed drifts by a quarter within minutes: the baseline is measured on
    // both sides of the drain and the ratio taken against their mean.
    let (raw_after, raw_cpu_after) = raw_rate(sink_url, &event.payload, 20_000).await;
    let (raw, raw_cpu_us) =
        ((raw_before + raw_after) / 2.0, (raw_cpu_before + raw_cpu_after) / 2.0);
    println!(
        "{backend:?}: baseline, plain POSTs of the same body {raw:>8.0} requests/s \
         (before the drain {raw_before:.0}, after {raw_after:.0}; {CONCURRENCY} concurrent; \
         CPU {raw_cpu_us:.0} µs per request, sender and receiver)"
    );
    println!(
        "{backend:?}: outbox → receiver {drained:>8.0} deliveries/s  ({:.0}% of the raw rate; \
         CPU {cpu_us:.0} µs per delivery, {:.1}× a plain POST's; {written:.1} KiB written \
         per delivery, HTTP and database)",
        100.0 * drained / raw,
        cpu_us / raw_cpu_us
    );
    println!(
        "{backend:?}:   sustained: after the first {warm_up} of {} deliveries; the whole drain \
         from the worker's start {whole_drain:.0} deliveries/s ({:.0}%)",
        backlog(),
        100.0 * whole_drain / raw
    );
    if backend == Backend::Sqlite {
        // (Postgres does its share in the server's own processes, outside these figures.)
        println!(
            "{backend:?}:   of which SQLite connection threads {database_us:.0} µs, async \
             workers (worker lanes, HTTP client and receiver) {async_us:.0} µs per delivery"
        );
    }

    // Commit → receipt latency, one event per transaction, for both lanes.
    sink.timing.store(true, Ordering::Relaxed);
    for fast in [false, true] {
        let mut latencies = Vec::with_capacity(LATENCY_SAMPLES);
        for n in 0..LATENCY_SAMPLES {
            let mut tx = store.begin().await.unwrap();
            let id = emit(&mut tx, &org, lead_event(n, fast)).await.unwrap();
            tx.commit().await.unwrap();
            let committed = Instant::now();
            let arrived = loop {
                if let Some(at) = sink.arrivals.lock().unwrap().get(&id) {
                    break *at;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            };
            latencies.push(arrived.saturating_duration_since(committed));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.sort();
        let lane =
            if fast { "fast lane (pricing.calculated)" } else { "queued lane (business events)" };
        println!(
            "{backend:?}: commit → receipt, {lane:<31} p50 {:>7.2} ms  p99 {:>7.2} ms",
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3
        );
    }
    sink.timing.store(false, Ordering::Relaxed);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let steal = StealMeter::start();
    runtime.block_on(async {
        let (sink, url) = start_sink().await;
        outbox_figures(Backend::Sqlite, &url, &sink).await;
        if postgres_admin_url().is_some() {
            outbox_figures(Backend::Postgres, &url, &sink).await;
        }
    });
    println!("{}", steal.report());
}
