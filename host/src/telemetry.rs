//! What the service tells its operators: every metric it keeps, named in one place, and the
//! Prometheus text they are scraped as (`GET /metrics`).
//!
//! The `metrics` facade records from anywhere in the process; one
//! `metrics-exporter-prometheus` recorder, installed once per process (several servers in
//! one process, as in the tests, share it), renders them. Durations are seconds.
//!
//! | Metric | Kind | Labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route` (the route template), `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route` |
//! | `webhook_attempts_total` | counter | `lane` (`fast`/`queued`), `outcome` (`delivered`, `retry`, `failed`, `expired`) |
//! | `webhook_attempt_duration_seconds` | histogram | `lane` |
//! | `webhook_commit_to_receipt_seconds` | histogram | `lane`: from the event's commit to the receiver's 2xx |
//! | `webhook_due_deliveries` | gauge | `lane`: deliveries due now and not yet claimed |
//! | `webhook_oldest_due_age_seconds` | gauge | `lane`: how long the oldest of them has been due |
//! | `live_pricing_changes_total` | counter | `rail` (`base`, `plugin`, `webhook`) |
//! | `live_pricing_settled_total` | counter | `outcome` (`confirmed`, `fallback`) |
//! | `live_pricing_settle_seconds` | histogram | `outcome`: from the change to its final price |
//! | `plugin_runs_total` | counter | `outcome` (`ok`, `trap`, `timeout`, …) |
//! | `plugin_run_duration_seconds` | histogram | — |
//! | `plugin_compile_queue_length` | gauge | — |
//! | `plugin_compile_duration_seconds` | histogram | `result` (`ready`, `failed`) |
//! | `sse_streams_open` | gauge | — |
//! | `db_pool_connections` | gauge | `pool` (`writer`, `reader`), `state` (`idle`, `in_use`) |

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Histogram buckets (seconds): from a tenth of a millisecond to a minute.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// Installs the process's recorder (once; later calls reuse it) and returns its handle.
pub fn install() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), BUCKETS)
            .expect("valid buckets")
            .install_recorder()
            .expect("no other metrics recorder in this process")
    })
}

/// The Prometheus text of every metric recorded so far.
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

/// One HTTP request answered.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(),
        "status" => status.to_string())
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

fn lane(fast: bool) -> &'static str {
    if fast { "fast" } else { "queued" }
}

/// One webhook delivery attempt and what became of the delivery.
pub fn webhook_attempt(fast: bool, outcome: &'static str, elapsed: Duration) {
    metrics::counter!("webhook_attempts_total", "lane" => lane(fast), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("webhook_attempt_duration_seconds", "lane" => lane(fast))
        .record(elapsed.as_secs_f64());
}

/// A receiver answered 2xx `elapsed` after the event was committed (its retries and any
/// redelivery included).
pub fn webhook_received(fast: bool, elapsed: Duration) {
    metrics::histogram!("webhook_commit_to_receipt_seconds", "lane" => lane(fast))
        .record(elapsed.as_secs_f64());
}

/// The lane's due deliveries not yet claimed, and the age of the oldest.
pub fn webhook_due(fast: bool, count: u64, oldest_age: Duration) {
    metrics::gauge!("webhook_due_deliveries", "lane" => lane(fast)).set(count as f64);
    metrics::gauge!("webhook_oldest_due_age_seconds", "lane" => lane(fast))
        .set(oldest_age.as_secs_f64());
}

/// A configuration change priced first by `rail` (`base`, `plugin` or `webhook`).
pub fn live_change(rail: &'static str) {
    metrics::counter!("live_pricing_changes_total", "rail" => rail).increment(1);
}

/// A pending price became final (`confirmed` or `fallback`) `elapsed` after its change.
pub fn live_settled(outcome: &'static str, elapsed: Duration) {
    metrics::counter!("live_pricing_settled_total", "outcome" => outcome).increment(1);
    metrics::histogram!("live_pricing_settle_seconds", "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// One plugin run.
pub fn plugin_run(outcome: &str, elapsed: Duration) {
    metrics::counter!("plugin_runs_total", "outcome" => outcome.to_owned()).increment(1);
    metrics::histogram!("plugin_run_duration_seconds").record(elapsed.as_secs_f64());
}

/// Plugin versions waiting for or in compilation.
pub fn plugin_compile_queue(length: usize) {
    metrics::gauge!("plugin_compile_queue_length").set(length as f64);
}

/// One compilation finished.
pub fn plugin_compiled(ready: bool, elapsed: Duration) {
    let result = if ready { "ready" } else { "failed" };
    metrics::histogram!("plugin_compile_duration_seconds", "result" => result)
        .record(elapsed.as_secs_f64());
}

/// An open price stream, counted in `sse_streams_open` while it lives.
#[derive(Debug)]
pub struct OpenStream(());

impl OpenStream {
    /// Counts a stream that opened.
    pub fn opened() -> Self {
        metrics::gauge!("sse_streams_open").increment(1.0);
        Self(())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("sse_streams_open").decrement(1.0);
    }
}

/// Connections of a database pool.
pub fn db_pool(pool: &'static str, idle: usize, in_use: usize) {
    metrics::gauge!("db_pool_connections", "pool" => pool, "state" => "idle").set(idle as f64);
    metrics::gauge!("db_pool_connections", "pool" => pool, "state" => "in_use").set(in_use as f64);
}
