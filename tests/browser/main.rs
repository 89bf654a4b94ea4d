//! The configurator in a real browser (Debian's Chromium via playwright-core, installed by
//! the test command): a width change shows `Confirming final price…`, then the fallback
//! when the organisation answers late, then the late answer heals the screen — all without
//! a reload; submit; the quote link is accepted; the events reach the receiver. Screenshots
//! go to `tests/artifacts/screenshots/<backend>/`. With the org's Wasm plugin active, a
//! change shows the plugin's final price at once, never `Confirming final price…`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use winfactor_tests::{Backend, Receiver, TestApp, backend_tests};

backend_tests!(
    the_configurator_updates_live_and_heals_after_a_late_answer,
    with_a_plugin_active_the_first_price_shown_is_final,
);

const BROWSER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/browser");

/// Runs `drive.mjs` with arguments; returns what it printed as JSON.
async fn drive(args: Vec<String>) -> Value {
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{BROWSER_DIR}/drive.mjs"))
            .args(args)
            .current_dir(BROWSER_DIR)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (tests/run.sh installs playwright-core and chromium)");
    assert!(
        output.status.success(),
        "browser run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("one JSON line")
}

async fn the_configurator_updates_live_and_heals_after_a_late_answer(backend: Backend) {
    let app =
        TestApp::start_with(backend, |config| config.pricing_debounce = Duration::from_millis(50))
            .await;
    assert_eq!(
        app.patch("/api/v1/organization", &json!({"pricingTimeoutMs": 1000})).await.0,
        StatusCode::OK
    );
    let receiver = Receiver::start().await;
    app.register_webhook(
        &receiver.url,
        &["pricing.calculated", "submission.created", "quote.accepted"],
        None,
    )
    .await;
    // The organisation's system (below): answers the first configuration at once, later
    // ones only after the configurator's timeout, so the screen falls back, then heals.
    let shots = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts/screenshots"))
        .join(format!("{backend:?}").to_lowercase());
    std::fs::create_dir_all(&shots).unwrap();
    let browser = tokio::spawn(drive(vec![
        "configurator".into(),
        app.base.clone(),
        shots.display().to_string(),
    ]));
    let mut answered = 0;
    while !browser.is_finished() {
        let received = receiver.received();
        let pending: Vec<_> = received
            .iter()
            .filter(|r| r.header("x-winfactor-event") == "pricing.calculated")
            .skip(answered)
            .cloned()
            .collect();
        for request in pending {
            if answered > 0 {
                // Well past the 1 s budget, so the fallback shows first even on a busy machine.
                tokio::time::sleep(Duration::from_millis(2500)).await;
            }
            let mut items = request.json()["data"]["basePricing"]["lineItems"].clone();
            items.as_array_mut().unwrap().push(json!({"description": "Mounting", "quantity": 1, "unitPrice": 250.0, "sortOffset": 99}));
            let (status, _) = app.answer_pricing(&request, &items).await;
            assert_eq!(status, StatusCode::OK);
            answered += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = browser.await.unwrap();
    assert_eq!(
        seen["seen"],
        json!(["Final price", "Confirming final price…", "Estimated price", "Final price"]),
        "{seen}"
    );
    assert_eq!(seen["source"], "(external)");
    assert_eq!(seen["navigations"], 1, "the price changed without a reload");
    assert_ne!(seen["before"], seen["after"]);
    assert!(seen["submitted"].as_str().unwrap().contains("external"), "{seen}");

    // The submission became a quote; the customer accepts it on the quote page.
    let (_, submissions) = app.get("/api/v1/submissions").await;
    let submission = submissions["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, quote) =
        app.post(&format!("/api/v1/submissions/{submission}/quotes"), &json!({})).await;
    let id = quote["id"].as_str().unwrap();
    let (status, _) = app
        .post(&format!("/api/v1/quotes/{id}/send"), &json!({"recipients": ["jane@example.com"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mails) = app.get("/api/v1/mail-outbox").await;
    let link = mails[0]["body"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap()
        .to_owned();
    let accepted = drive(vec!["accept".into(), link, shots.display().to_string()]).await;
    assert!(accepted["result"].as_str().unwrap().contains("accepted"), "{accepted}");
    let events: Vec<String> = receiver
        .wait_for(answered + 2, Duration::from_secs(10))
        .await
        .iter()
        .map(|r| r.header("x-winfactor-event").to_owned())
        .filter(|e| e != "pricing.calculated")
        .collect();
    assert_eq!(events, ["submission.created", "quote.accepted"]);
}

async fn with_a_plugin_active_the_first_price_shown_is_final(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.activate_plugin("margin", &json!({"default": 0.25})).await;
    let shots = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts/screenshots"))
        .join(format!("{backend:?}").to_lowercase());
    std::fs::create_dir_all(&shots).unwrap();
    let seen = drive(vec!["plugin".into(), app.base.clone(), shots.display().to_string()]).await;
    assert_eq!(seen["source"], "(plugin)", "{seen}");
    assert_ne!(seen["before"], seen["after"], "{seen}");
    assert_eq!(seen["navigations"], 1, "{seen}");
    let statuses = seen["statuses"].as_array().unwrap();
    assert!(!statuses.is_empty(), "{seen}");
    assert!(
        statuses.iter().all(|s| s.as_str().unwrap().starts_with("Final price")),
        "never pending, never estimated: {seen}"
    );
}
