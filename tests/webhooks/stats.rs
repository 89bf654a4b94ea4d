//! Endpoint statistics on `GET /api/v1/webhooks/{id}`: deliveries with known outcomes give
//! exact counts and rate, the latency percentiles see a slow answer, each endpoint counts
//! its own, and deliveries older than 24 hours leave the window.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use winfactor::outbox::RetrySchedule;
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests};

backend_tests!(stats_count_the_last_day_of_deliveries);

const SLOW: Duration = Duration::from_millis(400);

/// The endpoint's `stats` once `done` holds (panics after 10 s).
async fn stats_when(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, endpoint) = app.get(&format!("/api/v1/webhooks/{id}")).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{endpoint}");
        if done(&endpoint["stats"]) {
            return endpoint["stats"].clone();
        }
        assert!(Instant::now() < deadline, "stats never got there: {endpoint}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn finished(stats: &Value) -> i64 {
    stats["succeeded"].as_i64().unwrap() + stats["failed"].as_i64().unwrap()
}

async fn stats_count_the_last_day_of_deliveries(backend: Backend) {
    // No retries: a failed attempt fails its delivery at once.
    let app = TestApp::start_with(backend, |config| {
        config.delivery.retry_schedule = RetrySchedule(vec![]);
    })
    .await;
    let scripted = Receiver::scripted(|_, request| {
        let message = request.json()["data"]["contact"]["message"].clone();
        match message.as_str() {
            Some("fail") => Reply::status(500),
            Some("slow") => Reply { delay: SLOW, ..Reply::ok() },
            _ => Reply::ok(),
        }
    })
    .await;
    let healthy = Receiver::start().await;
    let (id, _) = app.register_webhook(&scripted.url, &["lead.created"], None).await;
    let (other, _) = app.register_webhook(&healthy.url, &["lead.created"], None).await;

    let fresh = stats_when(&app, &id, |_| true).await;
    assert_eq!(
        fresh,
        json!({"deliveries": 0, "succeeded": 0, "failed": 0, "successRate": null,
            "latencyP50Ms": null, "latencyP99Ms": null})
    );

    for message in ["ok", "also ok", "slow", "fail"] {
        app.submit_lead("Stats", "stats@example.com", message).await;
    }
    let stats = stats_when(&app, &id, |s| finished(s) == 4).await;
    assert_eq!(
        (&stats["deliveries"], &stats["succeeded"], &stats["failed"], &stats["successRate"]),
        (&json!(4), &json!(3), &json!(1), &json!(0.75)),
        "{stats}"
    );
    let slow_ms = i64::try_from(SLOW.as_millis()).unwrap();
    let (p50, p99) =
        (stats["latencyP50Ms"].as_i64().unwrap(), stats["latencyP99Ms"].as_i64().unwrap());
    assert!(p99 >= slow_ms && p50 < slow_ms, "p50 {p50}, p99 {p99}");

    let theirs = stats_when(&app, &other, |s| finished(s) == 4).await;
    assert_eq!((&theirs["succeeded"], &theirs["successRate"]), (&json!(4), &json!(1.0)));

    // The failed delivery was created 25 hours ago: it leaves the window.
    let day_and_hour = 25 * 3_600_000_i64;
    let moved = execute(
        &app,
        &format!(
            "UPDATE deliveries SET created_at = created_at - {day_and_hour} \
             WHERE endpoint_id = '{id}' AND status = 'failed'"
        ),
    )
    .await;
    assert_eq!(moved, 1);
    let stats = stats_when(&app, &id, |_| true).await;
    assert_eq!(
        (&stats["deliveries"], &stats["succeeded"], &stats["failed"], &stats["successRate"]),
        (&json!(3), &json!(3), &json!(0), &json!(1.0)),
        "{stats}"
    );
    assert!(stats["latencyP99Ms"].as_i64().unwrap() >= slow_ms, "{stats}");
}

/// Runs one statement on the test database over a connection of its own; rows affected.
async fn execute(app: &TestApp, sql: &str) -> u64 {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database.url).await.expect("the database");
    let done = sqlx::query(sql).execute(&mut conn).await.expect("the statement runs");
    let _ = conn.close().await;
    done.rows_affected()
}
