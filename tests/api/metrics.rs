//! `GET /metrics`: each series moves with the traffic it counts — requests, every live
//! pricing rail, a failed webhook delivery and its fallback, a received one (commit →
//! receipt), a good and a failed plugin run, an open price stream — and the endpoint can be
//! protected or turned off.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests};

backend_tests!(each_series_moves_with_its_traffic, metrics_can_be_protected_or_turned_off);

/// The sum of the samples of `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().expect("a sample value"))
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

async fn open_session(app: &TestApp, org: &str) -> serde_json::Value {
    let path = format!("/public/v1/orgs/{org}/configuration-sessions");
    let body = json!({"templateSlug": "tilt-turn-window"});
    let (status, session) = app.call(Method::POST, &path, None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

async fn each_series_moves_with_its_traffic(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.pricing_debounce = Duration::ZERO;
    })
    .await;
    let before = scrape(&app).await;

    // Base rail: an organisation with neither webhook nor plugin (the rival).
    let base = open_session(&app, "rival-glazing").await;
    assert_eq!(base["pricing"]["source"], "base");

    // Webhook rail: the demo org's receiver fails; the change falls back.
    let (status, _) = app.patch("/api/v1/organization", &json!({"pricingTimeoutMs": 600})).await;
    assert_eq!(status, StatusCode::OK);
    let receiver = Receiver::scripted(|_, _| Reply::status(503)).await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    let pending = open_session(&app, "window-works").await;
    assert_eq!(pending["pricing"]["status"], "pending");
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let path = format!("/public/v1/configuration-sessions/{}", pending["id"].as_str().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.call(Method::GET, &path, None, None).await.1["pricing"]["status"] != "fallback" {
        assert!(std::time::Instant::now() < deadline, "never fell back");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // A business event received: its commit → receipt latency, in the queued lane.
    let healthy = Receiver::start().await;
    app.register_webhook(&healthy.url, &["lead.created"], None).await;
    app.submit_lead("Metrics", "metrics@example.com", "Commit to receipt").await;
    let (_, leads) = app.get("/api/v1/events?eventType=lead.created").await;
    let lead_event = leads["data"][0]["id"].as_str().unwrap().to_owned();
    app.wait_for_event(&lead_event, Duration::from_secs(10), |event| {
        event["deliveries"][0]["status"] == "delivered"
    })
    .await;

    // Plugin rail, and a plugin that fails.
    let imperial = app.imperial_org().await;
    app.activate_plugin_as(&imperial, "margin", &json!({"default": 0.25})).await;
    let priced = open_session(&app, winfactor_tests::plugins::IMPERIAL_ORG_SLUG).await;
    assert_eq!(priced["pricing"]["source"], "plugin");
    app.activate_plugin_as(&app.seeded.rival_key.clone(), "hostile-panic", &json!({})).await;
    let failed = open_session(&app, "rival-glazing").await;
    assert_eq!(failed["pricing"]["source"], "base", "a failed plugin falls back to base");

    // An open price stream.
    let stream_path = format!("{path}/stream");
    let stream = app.client.get(app.url(&stream_path)).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        let (was, is) = (sample(&before, name, labels), sample(&after, name, labels));
        assert!(is > was, "{name}{labels:?} did not move: {was} -> {is}\n{after}");
    };
    let sessions =
        [("route", "/public/v1/orgs/{orgSlug}/configuration-sessions"), ("status", "201")];
    moved("http_requests_total", &sessions);
    moved("http_request_duration_seconds_count", &[("route", "/api/v1/organization")]);
    moved("live_pricing_changes_total", &[("rail", "base")]);
    moved("live_pricing_changes_total", &[("rail", "webhook")]);
    moved("live_pricing_changes_total", &[("rail", "plugin")]);
    moved("live_pricing_settled_total", &[("outcome", "fallback")]);
    moved("live_pricing_settle_seconds_count", &[("outcome", "fallback")]);
    moved("webhook_commit_to_receipt_seconds_count", &[("lane", "queued")]);
    moved("webhook_commit_to_receipt_seconds_bucket", &[("lane", "queued"), ("le", "+Inf")]);
    let failed_attempts = sample(&after, "webhook_attempts_total", &[("lane", "fast")])
        - sample(&after, "webhook_attempts_total", &[("lane", "fast"), ("outcome", "delivered")]);
    assert!(failed_attempts >= 1.0, "no failed attempt counted:\n{after}");
    moved("plugin_runs_total", &[("outcome", "ok")]);
    let runs = sample(&after, "plugin_runs_total", &[]);
    let good = sample(&after, "plugin_runs_total", &[("outcome", "ok")]);
    assert!(runs > good, "no failed plugin run counted:\n{after}");
    moved("plugin_compile_duration_seconds_count", &[("result", "ready")]);
    assert!(sample(&after, "sse_streams_open", &[]) >= 1.0, "{after}");
    assert!(after.contains("db_pool_connections{"), "{after}");
    assert!(after.contains("webhook_oldest_due_age_seconds{lane=\"queued\"}"), "{after}");
    drop(stream);
}

async fn metrics_can_be_protected_or_turned_off(backend: Backend) {
    let token = "metrics-scraper-token";
    let protected = TestApp::start_with(backend, |config| {
        config.metrics_token_sha256 = Some(Sha256::digest(token).into());
    })
    .await;
    assert_eq!(
        protected.call(Method::GET, "/metrics", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) =
        protected.call(Method::GET, "/metrics", Some(&protected.seeded.key), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an API key is not the metrics token");
    let (status, text) = protected.call(Method::GET, "/metrics", Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.as_str().unwrap().contains("http_requests_total"), "{text}");
    drop(protected);

    let off = TestApp::start_with(backend, |config| config.metrics = false).await;
    assert_eq!(off.call(Method::GET, "/metrics", None, None).await.0, StatusCode::NOT_FOUND);
}
