//! What the benchmarks share: percentiles, CPU time, and how much of the machine the
//! hypervisor took meanwhile.
//!
//! The benchmarks run on a small shared VM. When a neighbour is busy, the hypervisor
//! "steals" CPU time and every latency swings by integer factors; each benchmark prints the
//! steal it saw, so a figure can be told from a bad moment.

use std::future::Future;
use std::time::Duration;

use axum::body::Bytes;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{Backend, postgres_admin_url};

/// Runs `measure` on SQLite, then on Postgres when `WINFACTOR_TEST_POSTGRES_URL` is set, on
/// a multi-threaded runtime, and ends with the steal report.
pub fn on_each_backend<F, Fut>(measure: F)
where
    F: Fn(Backend) -> Fut,
    Fut: Future<Output = ()>,
{
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

/// Starts an organisation's pricing system that answers every `pricing.calculated` at once
/// by PUTting the base line items to the callback; answers its webhook URL.
pub async fn answering_receiver() -> String {
    let client = reqwest::Client::new();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let client = client.clone();
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap();
                let data = &event["data"];
                let answer = json!({ "configHash": data["configHash"], "lineItems": data["basePricing"]["lineItems"] });
                let url = data["callback"]["url"].as_str().unwrap().to_owned();
                tokio::spawn(async move { _ = client.put(url).json(&answer).send().await });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Subscribes `url` to every event of the demo organisation in `store` (a benchmark's
/// sink); answers the organisation.
pub async fn subscribe_demo_to_everything(
    store: &winfactor::Store,
    url: &str,
) -> winfactor::orgs::Org {
    use winfactor::outbox::{NewEndpoint, WebhookEndpoints};
    let org = store.org_by_slug(winfactor::demo::DEMO_ORG_SLUG).await.unwrap().expect("the demo");
    let endpoint = NewEndpoint {
        url: url.to_owned(),
        description: None,
        events: vec!["*".into()],
        filters: None,
        enabled: true,
        secret: winfactor::outbox::signing::generate_secret(),
    };
    store.insert_endpoint(&org.id, &endpoint).await.unwrap();
    org
}

/// The `p` quantile (0.0–1.0) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Offered load at a fixed rate (open loop): `change(n)` is started at `start + n / rate`
/// for `duration`, whatever the earlier ones are doing, so a stall shows in the latencies
/// instead of slowing the load down. Answers each change's latency — from its *scheduled*
/// time to the end of its future — with what the future answered, in schedule order.
pub async fn open_loop<F, Fut, T>(rate: u64, duration: Duration, change: F) -> Vec<(Duration, T)>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let total = (rate as f64 * duration.as_secs_f64()) as u64;
    let start = Instant::now() + Duration::from_millis(50);
    let tasks: Vec<_> = (0..total)
        .map(|n| {
            let scheduled = start + Duration::from_micros(n * 1_000_000 / rate);
            let change = change(n);
            tokio::spawn(async move {
                tokio::time::sleep_until(scheduled).await;
                let answer = change.await;
                (scheduled.elapsed(), answer)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a change of the load"));
    }
    answers
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`.
pub fn process_cpu_seconds() -> f64 {
    cpu_seconds(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// CPU seconds used by this process's live threads whose name starts with `prefix` (Linux
/// keeps 15 characters: sqlx's SQLite connections run on `sqlx-sqlite-wor…` threads, tokio's
/// workers are `tokio-rt-worker`), from `/proc/self/task/*/stat`.
pub fn threads_cpu_seconds(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("stat")).ok())
        .filter(|stat| stat.split_once('(').is_some_and(|(_, rest)| rest.starts_with(prefix)))
        .map(|stat| cpu_seconds(&stat))
        .sum()
}

/// utime + stime of a `/proc/…/stat` line, in seconds (clock ticks of USER_HZ = 100).
fn cpu_seconds(stat: &str) -> f64 {
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Bytes this process has handed to `write`-like system calls (sockets and files), from
/// `/proc/self/io`: unlike time, it does not move with the neighbours' load.
pub fn process_bytes_written() -> f64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let wchar = io.lines().find_map(|line| line.strip_prefix("wchar:"));
    wchar.and_then(|v| v.trim().parse().ok()).unwrap_or(0.0)
}

/// The machine's CPU time stolen by the hypervisor since [`StealMeter::start`].
#[derive(Debug, Clone, Copy)]
pub struct StealMeter {
    steal: u64,
    total: u64,
}

impl StealMeter {
    /// Starts measuring.
    pub fn start() -> Self {
        let (steal, total) = cpu_ticks();
        Self { steal, total }
    }

    /// Percentage of all CPU time (every core) stolen since the start.
    pub fn percent(&self) -> f64 {
        let (steal, total) = cpu_ticks();
        let total = total.saturating_sub(self.total).max(1);
        100.0 * steal.saturating_sub(self.steal) as f64 / total as f64
    }

    /// A line for the end of a benchmark's output.
    pub fn report(&self) -> String {
        format!(
            "machine: {:.1} % of CPU time stolen by the hypervisor during this run \
             (above ~2 %, latencies and rates are not comparable with a quiet run)",
            self.percent()
        )
    }
}

/// (steal, total) ticks of the `cpu` line of `/proc/stat`; zeros where it is unavailable.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already)
    let total = fields.iter().take(8).sum();
    (fields.get(7).copied().unwrap_or(0), total)
}
