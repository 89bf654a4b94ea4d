//! Wasm pricing plugins end to end: real components (built from `plugins/` for
//! wasm32-wasip2) uploaded through the API, compiled by the real wasmtime host, pricing
//! live configurations, on both databases.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::plugins::plugin_wasm;
use winfactor_tests::sse::SseClient;
use winfactor_tests::{Backend, Receiver, TestApp, backend_tests};

mod isolation;
mod languages;

backend_tests!(
    each_first_party_plugin_prices_the_put_and_the_stream,
    the_webhook_still_fires_beside_the_plugin_and_can_override_it,
    activation_and_rollback_switch_versions_atomically,
    hostile_uploads_are_refused_with_the_reason,
    hostile_runs_are_contained_and_recorded,
    a_restart_loads_the_precompiled_artifact,
    dry_runs_apply_nothing_and_submission_freezes_the_plugin_price,
);

const WAIT: Duration = Duration::from_secs(10);

async fn put_configuration(app: &TestApp, id: &str, configuration: &Value) -> (StatusCode, Value) {
    let path = format!("/public/v1/configuration-sessions/{id}/configuration");
    app.call(Method::PUT, &path, None, Some(&json!({ "configuration": configuration }))).await
}

fn with_width(session: &Value, width: u64) -> Value {
    let mut configuration = session["configuration"].clone();
    configuration["width"] = json!(width);
    configuration
}

fn unit_prices(pricing: &Value) -> Vec<f64> {
    pricing["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["unitPrice"].as_f64().unwrap())
        .collect()
}

async fn runs(app: &TestApp, key: &str, plugin: &str) -> Vec<Value> {
    let path = format!("/api/v1/pricing-plugins/{plugin}/runs");
    let (status, runs) = app.call(Method::GET, &path, Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "{runs}");
    runs["data"].as_array().unwrap().clone()
}

/// Polls the runs of `plugin` (recorded in the background) until they satisfy `done`.
async fn wait_for_runs(
    app: &TestApp,
    key: &str,
    plugin: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let recorded = runs(app, key, plugin).await;
        if done(&recorded) {
            return recorded;
        }
        assert!(Instant::now() < deadline, "runs never matched: {recorded:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the runs of `plugin` until one satisfies `found`.
async fn wait_for_run(
    app: &TestApp,
    key: &str,
    plugin: &str,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let recorded = wait_for_runs(app, key, plugin, |runs| runs.iter().any(&found)).await;
    recorded.into_iter().find(found).unwrap()
}

async fn each_first_party_plugin_prices_the_put_and_the_stream(backend: Backend) {
    let app = TestApp::start(backend).await;
    let session = app.open_session("2-panel-lift-slide").await;
    let id = session["id"].as_str().unwrap();
    let base = unit_prices(&session["pricing"]);
    assert_eq!(session["pricing"]["source"], "base");

    // Margin: +25 % on everything but labour.
    let settings = json!({"default": 0.25, "byItemType": {"labor": 0}});
    app.activate_plugin("margin", &settings).await;
    let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    stream.next(WAIT).await; // the current state
    let (status, priced) = put_configuration(&app, id, &with_width(&session, 2800)).await;
    assert_eq!(status, StatusCode::OK, "{priced}");
    assert_eq!(
        (priced["status"].as_str(), priced["source"].as_str()),
        (Some("confirmed"), Some("plugin"))
    );
    let event = stream.next(WAIT).await;
    assert_eq!(event.data["status"], "confirmed", "the first event is already final");
    assert_eq!(event.data["source"], "plugin");
    assert_eq!(event.data["lineItems"], priced["lineItems"]);
    for item in priced["lineItems"].as_array().unwrap() {
        let unit = item["unitPrice"].as_f64().unwrap();
        let base_item = session["pricing"]["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["itemKey"] == item["itemKey"])
            .unwrap();
        let base_unit = base_item["unitPrice"].as_f64().unwrap();
        let expected = if item["itemType"] == "labor" {
            base_unit
        } else {
            (base_unit * 1.25 * 100.0).round() / 100.0
        };
        assert!((unit - expected).abs() < 1e-9, "{item} vs {base_item}");
    }

    // Glass area: a surcharge row per m² of the panels and a 5 % tier.
    let settings = json!({"surchargePerM2": 10, "tiers": [{"minAreaM2": 1, "percent": 5}]});
    app.activate_plugin("glass-area", &settings).await;
    let (_, priced) = put_configuration(&app, id, &with_width(&session, 2900)).await;
    assert_eq!(priced["source"], "plugin", "{priced}");
    let items = priced["lineItems"].as_array().unwrap();
    let surcharge = items.iter().find(|i| i["description"] == "Glass area surcharge").unwrap();
    assert_eq!(surcharge["unitPrice"], json!(9.5));
    assert!(unit_prices(&priced).len() == base.len() + 1);

    // Imperial: one per-square-foot line, charm-rounded, for an imperial organisation.
    let key = app.imperial_org().await;
    app.activate_plugin_as(&key, "imperial", &json!({"pricePerSqFt": 20})).await;
    let body = json!({ "templateSlug": "2-panel-lift-slide", "origin": "configurator" });
    let path = "/public/v1/orgs/frontier-windows/configuration-sessions";
    let (status, imperial) = app.call(Method::POST, path, None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{imperial}");
    assert_eq!(imperial["pricing"]["source"], "plugin", "the first price is the plugin's");
    let first = &imperial["pricing"]["lineItems"][0];
    assert!(first["description"].as_str().unwrap().contains("sq ft"), "{first}");
    let cents = (first["unitPrice"].as_f64().unwrap() * 100.0).round() as i64;
    assert_eq!(cents % 100, 99, "charm-rounded: {first}");
    // The metric demo org is untouched by the other org's plugin.
    let (_, own) = put_configuration(&app, id, &with_width(&session, 3000)).await;
    assert!(
        own["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["description"] == "Glass area surcharge")
    );
}

async fn the_webhook_still_fires_beside_the_plugin_and_can_override_it(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.pricing_debounce = Duration::ZERO).await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    app.activate_plugin("margin", &json!({"default": 0.1})).await;
    let session = app.open_session("2-panel-lift-slide").await;
    assert_eq!(session["pricing"]["status"], "confirmed");
    assert_eq!(session["pricing"]["source"], "plugin");
    let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    stream.next(WAIT).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.json()["data"]["configHash"], session["configHash"]);
    let items = json!([{"description": "Negotiated price", "quantity": 1, "unitPrice": 999}]);
    let (status, receipt) = app.answer_pricing(&request, &items).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let overridden = stream.until(WAIT, |e| e.data["source"] == "external").await;
    assert_eq!(overridden.data["subtotal"], json!(999.0));
}

async fn activation_and_rollback_switch_versions_atomically(backend: Backend) {
    let app = TestApp::start(backend).await;
    let v1 = app.activate_plugin("margin", &json!({"default": 0.1})).await;
    let v2 = app.activate_plugin("margin", &json!({"default": 0.5})).await;
    let (_, list) = app.get("/api/v1/pricing-plugins").await;
    assert_eq!(list["activeId"], json!(v2));
    let versions: Vec<_> =
        list["data"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 1], "newest first, numbered per name");
    assert_eq!(list["data"].as_array().unwrap().iter().filter(|v| v["active"] == true).count(), 1);

    let session = app.open_session("2-panel-lift-slide").await;
    let id = session["id"].as_str().unwrap();
    let (base_session, _) = (session["pricing"].clone(), ());
    assert_eq!(base_session["source"], "plugin");
    let frame = |pricing: &Value| pricing["lineItems"][0]["unitPrice"].as_f64().unwrap();
    let (_, with_v2) = put_configuration(&app, id, &with_width(&session, 2700)).await;
    let (_, activated) =
        app.post(&format!("/api/v1/pricing-plugins/{v1}/activate"), &json!({})).await;
    assert_eq!(activated["active"], true);
    let (_, with_v1) = put_configuration(&app, id, &with_width(&session, 2750)).await;
    assert!(frame(&with_v2) > frame(&with_v1) * 1.3, "v2 marks up 50 %, v1 10 %");
    let (_, plugin) = app.get(&format!("/api/v1/pricing-plugins/{v2}")).await;
    assert_eq!(plugin["active"], false, "rolled back");
    // Returning to a configuration v2 priced shows v1's price now, not v2's stored answer.
    let (_, back) = put_configuration(&app, id, &with_width(&session, 2700)).await;
    assert_eq!(back["source"], "plugin");
    assert!(frame(&back) < frame(&with_v2), "{back}");

    // PATCH settings apply to the next run.
    let (status, _) = app
        .patch(&format!("/api/v1/pricing-plugins/{v1}"), &json!({"settings": {"default": 0}}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, unchanged) = put_configuration(&app, id, &with_width(&session, 2760)).await;
    let base = winfactor::catalog::base_pricing(
        &app.store.template(&app.seeded.org.id, "2-panel-lift-slide").await.unwrap().unwrap(),
        &serde_json::from_value(with_width(&session, 2760)).unwrap(),
        "EUR",
    );
    assert_eq!(
        unchanged["subtotal"].as_f64().unwrap().to_string(),
        base.subtotal.normalize().to_string()
    );
    let (status, error) =
        app.patch(&format!("/api/v1/pricing-plugins/{v1}"), &json!({"settings": [1]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    // The active version cannot be deleted; another can. Other orgs see none of it.
    let (status, error) = app
        .call(Method::DELETE, &format!("/api/v1/pricing-plugins/{v1}"), Some(&app.seeded.key), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "plugin_active");
    let rival = app.seeded.rival_key.clone();
    for (method, path) in [
        (Method::GET, format!("/api/v1/pricing-plugins/{v2}")),
        (Method::POST, format!("/api/v1/pricing-plugins/{v2}/activate")),
        (Method::DELETE, format!("/api/v1/pricing-plugins/{v2}")),
        (Method::GET, format!("/api/v1/pricing-plugins/{v2}/runs")),
    ] {
        let (status, _) = app.call(method, &path, Some(&rival), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/v1/pricing-plugins/{v2}"), Some(&app.seeded.key), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(Method::POST, "/api/v1/pricing-plugins?name=x", Some(&app.seeded.read_key), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "uploading needs read_write");
}

async fn hostile_uploads_are_refused_with_the_reason(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = app.seeded.key.clone();
    let random: Vec<u8> =
        (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let core = wat_module();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("evil-import", plugin_wasm("hostile-evil-import"), "hostile:evil/net"),
        ("wrong-world", plugin_wasm("hostile-wrong-world"), "does not export `price`"),
        ("random", random, "not a WebAssembly component"),
        ("core", core, "core WebAssembly module"),
    ];
    for (name, wasm, reason) in cases {
        let (status, error) = app.upload_plugin_as(&key, name, &wasm, &json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {error}");
        let message = error["error"]["details"]["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{name}: {message}");
    }
    let (status, error) = app.upload_plugin_as(&key, "", &plugin_wasm("margin"), &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let huge = vec![0u8; 49 << 20];
    let sent = app
        .client
        .post(app.url("/api/v1/pricing-plugins?name=huge"))
        .bearer_auth(&key)
        .header("content-type", "application/wasm")
        .body(huge)
        .send()
        .await;
    match sent {
        Ok(response) => {
            assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
            // The unread rest of the body ends the connection: the answer says so, and the
            // next request (below) must not race that close on a reused connection.
            assert_eq!(response.headers()["connection"], "close");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["code"], "payload_too_large", "{error}");
        }
        // The server answers 413 and closes as soon as the cap is passed; a client still
        // writing the rest may see the close before it reads the answer.
        Err(err) => assert!(err.is_request() && !err.is_timeout(), "{err:?}"),
    }
    let response = app
        .client
        .post(app.url("/api/v1/pricing-plugins?name=x"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (_, list) = app.get("/api/v1/pricing-plugins").await;
    assert_eq!(list["data"], json!([]), "nothing refused was stored");

    // Multipart works too.
    let form = reqwest::multipart::Form::new()
        .text("name", "margin-form")
        .text("settings", r#"{"default": 0.2}"#)
        .part(
            "file",
            reqwest::multipart::Part::bytes(plugin_wasm("margin")).file_name("margin.wasm"),
        );
    let response = app
        .client
        .post(app.url("/api/v1/pricing-plugins"))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let version: Value = response.json().await.unwrap();
    assert_eq!(version["name"], "margin-form");
    assert_eq!(version["settings"], json!({"default": 0.2}));
}

/// A core module (not a component) exporting a `price` function.
fn wat_module() -> Vec<u8> {
    // (module (func (export "price") (result i32) i32.const 0))
    vec![
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
        0x03, 0x02, 0x01, 0x00, 0x07, 0x09, 0x01, 0x05, b'p', b'r', b'i', b'c', b'e', 0x00, 0x00,
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,
    ]
}

async fn hostile_runs_are_contained_and_recorded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = app.seeded.key.clone();
    let session = app.open_session("2-panel-lift-slide").await;
    let id = session["id"].as_str().unwrap();
    let cases = [
        ("hostile-spin", "timeout"),
        ("hostile-grow", "memory_limit"),
        ("hostile-recurse", "trap"),
        ("hostile-flood", "invalid_output"),
        ("hostile-panic", "trap"),
    ];
    for (index, (component, outcome)) in cases.into_iter().enumerate() {
        let plugin = app.activate_plugin(component, &json!({})).await;
        let started = Instant::now();
        let (status, pricing) =
            put_configuration(&app, id, &with_width(&session, 2500 + index as u64)).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::OK, "{component}: {pricing}");
        assert_eq!(
            (pricing["status"].as_str(), pricing["source"].as_str()),
            (Some("fallback"), Some("base")),
            "{component}"
        );
        assert!(took < Duration::from_secs(5), "{component} took {took:?}");
        let run = wait_for_run(&app, &key, &plugin, |r| r["context"] == "live").await;
        assert_eq!(run["outcome"], outcome, "{component}: {run}");
        assert!(run["error"].as_str().is_some_and(|e| !e.is_empty()), "{run}");
        if component == "hostile-panic" {
            let log = run["log"].to_string();
            assert!(log.contains("about to fail"), "stdout is captured: {log}");
        }
        // The host keeps serving: another organisation prices at once, unaffected.
        let body = json!({ "templateSlug": "2-panel-lift-slide", "origin": "configurator" });
        let path = "/public/v1/orgs/rival-glazing/configuration-sessions";
        let (status, other) = app.call(Method::POST, path, None, Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{other}");
        assert_eq!(other["pricing"]["status"], "confirmed");
    }
}

async fn a_restart_loads_the_precompiled_artifact(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = app.seeded.key.clone();
    let plugin = app.activate_plugin("glass-area", &json!({})).await;
    let (_, version) = app.get(&format!("/api/v1/pricing-plugins/{plugin}")).await;
    assert!(version["compileMs"].as_i64().is_some(), "{version}");
    let artifacts = std::fs::read_dir(app.plugin_cache.path()).unwrap().count();
    assert_eq!(artifacts, 1, "one precompiled artifact on disk");

    let app = app.restart().await;
    let session = app.open_session("2-panel-lift-slide").await;
    assert_eq!(session["pricing"]["source"], "plugin");
    let first = wait_for_run(&app, &key, &plugin, |r| r["context"] == "live").await;
    assert_eq!(first["origin"], "precompiled", "loaded from disk, not recompiled: {first}");
    let (_, again) =
        put_configuration(&app, session["id"].as_str().unwrap(), &with_width(&session, 2600)).await;
    assert_eq!(again["source"], "plugin");

    // A stopping server writes the runs it gathered (the last one is milliseconds old).
    let app = app.restart().await;
    let live = runs(&app, &key, &plugin).await;
    assert_eq!(live.iter().filter(|r| r["context"] == "live").count(), 2, "{live:?}");

    // An artifact that is not what this host wrote is never loaded: it is recompiled.
    for entry in std::fs::read_dir(app.plugin_cache.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"tampered").unwrap();
    }
    let session = app.open_session("2-panel-lift-slide").await;
    assert_eq!(session["pricing"]["source"], "plugin", "{session}");
    wait_for_run(&app, &key, &plugin, |r| r["origin"] == "compiled").await;
}

async fn dry_runs_apply_nothing_and_submission_freezes_the_plugin_price(backend: Backend) {
    let app = TestApp::start(backend).await;
    let session = app.open_session("2-panel-lift-slide").await;
    let id = session["id"].as_str().unwrap();
    let (status, version) = app
        .upload_plugin_as(
            &app.seeded.key,
            "margin",
            &plugin_wasm("margin"),
            &json!({"default": 0.2}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(version["status"], "queued", "{version}");
    let plugin = version["id"].as_str().unwrap().to_owned();
    let (status, error) =
        app.post(&format!("/api/v1/pricing-plugins/{plugin}/activate"), &json!({})).await;
    if status != StatusCode::OK {
        assert_eq!(error["error"]["code"], "plugin_not_ready");
    }
    app.compiled_plugin_as(&app.seeded.key, &plugin).await;

    // Dry-run on the session: output and figures, nothing applied.
    let path = format!("/api/v1/pricing-plugins/{plugin}/dry-run");
    let (status, dry) = app.post(&path, &json!({"sessionId": id})).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["outcome"], "ok");
    assert!(dry["durationUs"].as_i64().unwrap() > 0);
    assert!(dry["peakMemoryBytes"].as_i64().unwrap() > 0);
    assert!(dry["log"][0].as_str().unwrap().contains("marked up"), "{dry}");
    assert_eq!(
        dry["output"]["lineItems"].as_array().unwrap().len(),
        session["pricing"]["lineItems"].as_array().unwrap().len()
    );
    let (_, unchanged) =
        app.call(Method::GET, &format!("/public/v1/configuration-sessions/{id}"), None, None).await;
    assert_eq!(unchanged["pricing"]["source"], "base", "a dry-run applies nothing");

    // Dry-run on an event payload, with other settings.
    let event = json!({
        "context": "live",
        "session": {"id": "cs_example", "origin": "api"},
        "template": {"id": "tpl", "name": "Door", "slug": "door"},
        "configuration": session["configuration"],
        "configHash": "abc",
        "basePricing": {"currency": "EUR", "subtotal": 100.0, "lineItems": [
            {"itemKey": "template:a:b", "description": "Door", "quantity": 1, "unitPrice": 100.0, "total": 100.0}]}
    });
    let (status, dry) = app.post(&path, &json!({"event": event, "settings": {"default": 1}})).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["output"]["subtotal"], json!(200.0));
    let (status, error) = app.post(&path, &json!({"event": {"context": "live"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, _) = app.post(&path, &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.post(&path, &json!({"sessionId": "cs_nope"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let dry_run_count = |runs: &[Value]| runs.iter().filter(|r| r["context"] == "dry-run").count();
    let recorded = wait_for_runs(&app, &app.seeded.key, &plugin, |r| dry_run_count(r) >= 2).await;
    assert_eq!(dry_run_count(&recorded), 2);

    // Live: activate, change, submit: the plugin's price is frozen on the submission.
    let (status, _) =
        app.post(&format!("/api/v1/pricing-plugins/{plugin}/activate"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, priced) = put_configuration(&app, id, &with_width(&session, 2650)).await;
    assert_eq!(priced["source"], "plugin");
    let customer = json!({"customer": {"name": "Ada", "email": "ada@example.com"}});
    let receipt = app.submit_session(&json!({"id": id}), &customer).await;
    let submission =
        receipt["submissionId"].as_str().or(receipt["id"].as_str()).unwrap().to_owned();
    let (status, stored) = app.get(&format!("/api/v1/submissions/{submission}")).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["pricing"]["subtotal"], priced["subtotal"], "{stored}");
}
