//! The configurator in a real browser (Debian's Chromium via playwright-core, installed by
//! the test command): a width change shows `Confirming final price…`, then the fallback
//! when the organisation answers late, then the late answer heals the screen — all without
//! a reload; submit; the quote link is accepted; the events reach the receiver. Screenshots
//! go to `tests/artifacts/screenshots/<backend>/`. With the org's Wasm plugin active, a
//! change shows the plugin's final price at once, never `Confirming final price…`. The
//! page speaks German and Dutch with their numbers, shows an imperial organisation's sizes
//! in inches (sending millimetres), puts a range error at its field with the price marked
//! outdated and Submit disabled until fixed, says when the server is gone, keeps the price
//! in view on a phone, and passes axe-core without serious or critical findings.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::{Backend, Receiver, TestApp, backend_tests};

backend_tests!(
    the_configurator_updates_live_and_heals_after_a_late_answer,
    with_a_plugin_active_the_first_price_shown_is_final,
    the_configurator_speaks_the_customers_language_and_the_orgs_units,
    the_price_is_never_shown_as_current_for_other_inputs,
    the_page_says_when_the_server_is_gone,
);

const BROWSER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/browser");

/// This backend's screenshot directory, created.
fn screenshots(backend: Backend) -> PathBuf {
    let shots = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts/screenshots"))
        .join(format!("{backend:?}").to_lowercase());
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

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
    assert_eq!(seen["source"], "external");
    assert_eq!(seen["navigations"], 1, "the price changed without a reload");
    assert_ne!(seen["before"], seen["after"]);
    assert!(seen["submitted"].as_str().unwrap().starts_with("Thank you"), "{seen}");
    assert_eq!(seen["submittedSource"], "external", "{seen}");
    let busy = seen["busy"].as_array().unwrap();
    assert!(busy.contains(&json!(["true", true, "Submitting…"])), "busy while submitting: {seen}");

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
    assert_eq!(seen["source"], "plugin", "{seen}");
    assert_ne!(seen["before"], seen["after"], "{seen}");
    assert_eq!(seen["navigations"], 1, "{seen}");
    // While the new size is on its way the old price is marked outdated; every price shown
    // is final.
    let statuses: Vec<&str> = seen["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .filter(|s| !s.starts_with("Price outdated"))
        .collect();
    assert!(!statuses.is_empty(), "{seen}");
    assert!(
        statuses.iter().all(|s| s.starts_with("Final price")),
        "never pending, never estimated: {seen}"
    );
}

async fn the_configurator_speaks_the_customers_language_and_the_orgs_units(backend: Backend) {
    let app = TestApp::start(backend).await;
    let shots = screenshots(backend).display().to_string();
    let logo = include_bytes!("../fixtures/logo.png").to_vec();
    let (status, uploaded) = app.upload_logo_as(&app.seeded.key, "image/png", logo).await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let walk = |language: &str| {
        drive(vec!["locale".into(), app.base.clone(), shots.clone(), language.into()])
    };
    let de = walk("de-DE").await;
    assert_eq!(de["lang"], "de", "{de}");
    assert_eq!(de["heading"], "Ihre Konfiguration", "{de}");
    assert_eq!(de["widthLabel"], "Breite (mm)", "{de}");
    assert_eq!(de["submit"], "Absenden", "{de}");
    assert_eq!(de["logo"], 300, "the uploaded logo, loaded: {de}");
    assert_eq!(de["logoAlt"], "Window Works Inc", "{de}");
    // German money: `1.791,26 €` (grouping dot, decimal comma, symbol after).
    let subtotal = de["subtotal"].as_str().unwrap();
    assert!(subtotal.ends_with('€') && subtotal.contains(','), "{de}");
    assert!(!subtotal.contains('.') || subtotal.find('.') < subtotal.find(','), "{de}");
    let nl = walk("nl-NL").await;
    assert_eq!(nl["lang"], "nl", "{nl}");
    assert_eq!(nl["heading"], "Uw configuratie", "{nl}");
    assert_eq!(nl["priceHeading"], "Uw prijs", "{nl}");
    let subtotal = nl["subtotal"].as_str().unwrap();
    assert!(subtotal.starts_with('€') && subtotal.contains(','), "Dutch money: {nl}");
    // Quantities in the locale's digits (a decimal comma where there is a fraction).
    for quantity in nl["quantities"].as_array().unwrap() {
        assert!(!quantity.as_str().unwrap().contains('.'), "{nl}");
    }
    // Customer words only: no option codes, no pricing sources, repeated parts numbered.
    let (_, templates) =
        app.call(Method::GET, "/public/v1/orgs/window-works/templates", None, None).await;
    let codes: Vec<String> = templates
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["options"].as_array().unwrap().iter())
        .map(|o| format!("({})", o["code"].as_str().unwrap()))
        .collect();
    assert!(!codes.is_empty());
    for view in [&de, &nl] {
        let legends: Vec<&str> =
            view["legends"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert!(legends.iter().all(|l| !l.contains('(')), "{legends:?}");
        let mut unique = legends.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), legends.len(), "repeated components are numbered: {legends:?}");
        for option in view["options"].as_array().unwrap() {
            let text = option.as_str().unwrap();
            assert!(!codes.iter().any(|code| text.contains(code.as_str())), "{text}");
        }
        assert!(!view["status"].as_str().unwrap().contains("(base)"), "{view}");
    }

    app.imperial_org().await;
    let url = format!(
        "{}/configurator/{}?template=2-panel-lift-slide",
        app.base,
        winfactor_tests::plugins::IMPERIAL_ORG_SLUG
    );
    let imperial = drive(vec!["imperial".into(), url, shots.clone()]).await;
    assert_eq!(imperial["label"], "Width (in)", "{imperial}");
    assert_eq!(imperial["sentWidth"], json!(2540), "100 in is sent as 2540 mm: {imperial}");
    let shown: f64 = imperial["shown"].as_str().unwrap().parse().unwrap();
    assert!(shown < 400.0, "the width is shown in inches: {imperial}");
}

async fn the_price_is_never_shown_as_current_for_other_inputs(backend: Backend) {
    let app = TestApp::start(backend).await;
    let shots = screenshots(backend).display().to_string();
    let seen = drive(vec!["invalid".into(), app.base.clone(), shots.clone()]).await;
    assert_eq!(seen["valid"]["submitDisabled"], false, "{seen}");
    let invalid = &seen["invalid"];
    assert_eq!(invalid["field"]["invalid"], "true", "{seen}");
    assert_eq!(invalid["field"]["describedBy"], "width-error", "{seen}");
    assert_eq!(invalid["field"]["errorNextToField"], true, "{seen}");
    assert!(
        invalid["field"]["error"].as_str().unwrap().starts_with("Enter a value from"),
        "{seen}"
    );
    assert_eq!(invalid["outdated"], true, "{seen}");
    assert!(invalid["status"].as_str().unwrap().starts_with("Price outdated"), "{seen}");
    assert!(
        invalid["subtotal"].as_str().unwrap().starts_with('€'),
        "the old price, struck: {seen}"
    );
    assert_eq!(invalid["submitDisabled"], true, "{seen}");
    let fixed = &seen["fixed"];
    assert_eq!(fixed["field"]["invalid"], Value::Null, "{seen}");
    assert_eq!(
        (fixed["outdated"].clone(), fixed["submitDisabled"].clone()),
        (json!(false), json!(false)),
        "{seen}"
    );
    assert_ne!(fixed["subtotal"], seen["valid"]["subtotal"], "the new size's price: {seen}");

    // On a phone the price is in view while a size at the bottom of the form is edited.
    let phone = drive(vec!["phone".into(), app.base.clone(), shots.clone()]).await;
    assert_eq!(phone["visible"], true, "{phone}");
    let (top, height) =
        (phone["box"]["y"].as_f64().unwrap(), phone["box"]["height"].as_f64().unwrap());
    assert!(
        top >= 0.0 && top + height <= 844.0,
        "the price is inside the 844 px viewport: {phone}"
    );
    let input = phone["inputBox"]["y"].as_f64().unwrap();
    assert!((0.0..844.0).contains(&input), "the edited field is in view: {phone}");
    assert!(
        phone["inPage"]["y"].as_f64().unwrap() > 844.0,
        "the price section itself is out of view, the summary shows the price: {phone}"
    );

    let axe = drive(vec!["axe".into(), app.base.clone(), shots]).await;
    assert_eq!(axe["loaded"], json!([]), "axe-core, serious or critical: {axe}");
    assert_eq!(axe["withError"], json!([]), "axe-core with a field error: {axe}");
    assert_eq!(axe["focused"], "width", "Tab moves from the product to the width: {axe}");
}

async fn the_page_says_when_the_server_is_gone(backend: Backend) {
    let app = TestApp::start(backend).await;
    let shots = screenshots(backend);
    let marker = shots.join("server-stop");
    let _ = std::fs::remove_file(&marker);
    let browser =
        tokio::spawn(drive(vec!["offline".into(), app.base.clone(), shots.display().to_string()]));
    while !marker.exists() && !browser.is_finished() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
    let seen = browser.await.unwrap();
    let _ = std::fs::remove_file(&marker);
    assert_eq!(seen["before"]["submitDisabled"], false, "{seen}");
    assert!(seen["message"].as_str().unwrap().contains("can't reach the server"), "{seen}");
    assert_eq!(seen["retry"], true, "{seen}");
    assert_eq!(seen["after"]["submitDisabled"], true, "{seen}");
    assert_eq!(seen["after"]["outdated"], true, "{seen}");
    assert_eq!(seen["after"]["status"], "Price outdated — not connected", "{seen}");
}
