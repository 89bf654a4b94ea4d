//! Live pricing, both rails, end to end (run with `cargo bench -p winfactor-tests --bench
//! live`; the plugin rail needs the components built, as `tests/run.sh` does):
//!
//! - webhook rail: configuration PUT → `confirmed` SSE event. A local receiver answers
//!   every `pricing.calculated` at once by PUTting the base line items to the callback. The
//!   debounce is set to zero so the figure is the rail itself (the configured debounce,
//!   250 ms by default, comes on top in production).
//! - plugin rail: configuration PUT → its answer, already `confirmed` by the org's active
//!   Wasm plugin, per first-party plugin (margin, glass-area, imperial), no webhook endpoint.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use winfactor_tests::bench::{StealMeter, answering_receiver, percentile};
use winfactor_tests::plugins::IMPERIAL_ORG_SLUG;
use winfactor_tests::sse::SseClient;
use winfactor_tests::{Backend, TestApp, postgres_admin_url};

const SAMPLES: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rail {
    Webhook,
    /// The first-party plugin of that name (margin at 25 %, imperial at $20 per sq ft for an
    /// imperial-market organisation, glass-area with its defaults).
    Plugin(&'static str),
}

async fn measure(backend: Backend, rail: Rail) {
    let app = TestApp::start_with(backend, |config| config.pricing_debounce = Duration::ZERO).await;
    let mut org_slug = "window-works";
    match rail {
        Rail::Webhook => {
            let receiver = answering_receiver().await;
            app.register_webhook(&receiver, &["pricing.calculated"], None).await;
        }
        Rail::Plugin("imperial") => {
            // The imperial plugin prices imperial-market organisations only.
            let key = app.imperial_org().await;
            app.activate_plugin_as(&key, "imperial", &json!({"pricePerSqFt": 20})).await;
            org_slug = IMPERIAL_ORG_SLUG;
        }
        Rail::Plugin(plugin) => {
            let settings = if plugin == "margin" { json!({"default": 0.25}) } else { json!({}) };
            app.activate_plugin(plugin, &settings).await;
        }
    }
    let (_, session) = app
        .call(
            reqwest::Method::POST,
            &format!("/public/v1/orgs/{org_slug}/configuration-sessions"),
            None,
            Some(&json!({"templateSlug": "2-panel-lift-slide"})),
        )
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    stream.until(Duration::from_secs(10), |e| e.data["status"] == "confirmed").await;
    let mut latencies = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES {
        let mut configuration = session["configuration"].clone();
        configuration["width"] = json!(2000 + n);
        let started = Instant::now();
        let response = app
            .client
            .put(app.url(&format!("/public/v1/configuration-sessions/{id}/configuration")))
            .json(&json!({ "configuration": configuration }))
            .send()
            .await
            .unwrap();
        let answer = response.json::<Value>().await.unwrap();
        if let Rail::Plugin(_) = rail {
            assert_eq!(answer["source"], "plugin", "{answer}");
            latencies.push(started.elapsed());
            continue;
        }
        let hash = answer["configHash"].clone();
        stream
            .until(Duration::from_secs(10), |e| {
                e.data["configHash"] == hash && e.data["status"] == "confirmed"
            })
            .await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let at = |p: f64| percentile(&latencies, p).as_secs_f64() * 1e3;
    let figure = match rail {
        Rail::Webhook => "webhook rail, configuration PUT → confirmed SSE event".to_owned(),
        Rail::Plugin(plugin) => format!("plugin rail ({plugin:<10}), PUT → confirmed answer"),
    };
    println!(
        "{backend:?}: {figure:<53}: p50 {:.2} ms  p99 {:.2} ms  ({SAMPLES} changes; p90 {:.2}, \
         max {:.2})",
        at(0.50),
        at(0.99),
        at(0.90),
        at(1.0)
    );
    app.stop().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let steal = StealMeter::start();
    runtime.block_on(async {
        let plugins = ["margin", "glass-area", "imperial"].map(Rail::Plugin);
        for rail in [Rail::Webhook].into_iter().chain(plugins) {
            measure(Backend::Sqlite, rail).await;
            if postgres_admin_url().is_some() {
                measure(Backend::Postgres, rail).await;
            }
        }
    });
    println!("{}", steal.report());
}
