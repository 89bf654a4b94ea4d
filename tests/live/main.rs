//! The live pricing loop end to end: real server, real receiver answering through the
//! callback, real SSE client, both databases.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::sse::SseClient;
use winfactor_tests::{Backend, Received, Receiver, TestApp, backend_tests};

mod callbacks;

backend_tests!(
    external_answer_confirms_and_callbacks_are_single_use,
    timeout_falls_back_and_a_late_answer_self_heals,
    stale_answers_are_kept_for_their_own_configuration,
    a_new_configuration_is_not_held_back_by_an_unanswered_one,
    a_burst_fires_for_the_newest_configuration_and_never_twice_for_one,
    only_an_endpoint_whose_filters_match_makes_a_change_wait,
    submission_freezes_the_matching_adjustment,
    submission_without_answer_gives_the_org_its_chance,
    without_a_rail_base_pricing_is_final_and_bad_input_fires_nothing,
    a_session_left_pending_by_another_process_is_priced_again,
    concurrent_changes_of_one_session_each_get_their_own_history_entry,
    a_change_starts_from_what_another_process_stored,
);

const WAIT: Duration = Duration::from_secs(10);

async fn live_app(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |config| config.pricing_debounce = Duration::from_millis(50)).await
}

/// Opens a session on the lift-slide door's default configuration.
async fn open_session(app: &TestApp) -> Value {
    app.open_session("2-panel-lift-slide").await
}

/// A pricing receiver registered for `pricing.calculated`, a session on the lift-slide door
/// and its price stream.
async fn session_with_receiver(app: &TestApp) -> (Receiver, Value, SseClient) {
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    let session = open_session(app).await;
    let stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    (receiver, session, stream)
}

/// The session's configuration with another overall width.
fn with_width(session: &Value, width: u64) -> Value {
    let mut configuration = session["configuration"].clone();
    configuration["width"] = json!(width);
    configuration
}

async fn put_configuration(app: &TestApp, id: &str, configuration: &Value) -> (StatusCode, Value) {
    let path = format!("/public/v1/configuration-sessions/{id}/configuration");
    app.call(Method::PUT, &path, None, Some(&json!({ "configuration": configuration }))).await
}

/// PUTs `line_items` to the callback of a received `pricing.calculated`.
async fn answer(app: &TestApp, request: &Received, line_items: &Value) -> (StatusCode, Value) {
    app.answer_pricing(request, line_items).await
}

/// The org's own price: base items with a 10% margin on the first, plus mounting.
fn marked_up(request: &Received) -> Value {
    let mut items = request.json()["data"]["basePricing"]["lineItems"].clone();
    let first = &mut items[0];
    first["unitPrice"] =
        json!((first["unitPrice"].as_f64().unwrap() * 1.1 * 100.0).round() / 100.0);
    first["externalRef"] = json!("erp:item:1");
    items.as_array_mut().unwrap().push(
        json!({"description": "Mounting", "quantity": 1, "unitPrice": 250.0, "itemType": "labor", "sortOffset": 95}),
    );
    items
}

async fn external_answer_confirms_and_callbacks_are_single_use(backend: Backend) {
    let app = live_app(backend).await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    let session = open_session(&app).await;
    let id = session["id"].as_str().unwrap();
    assert!(id.starts_with("cs_") && id.len() > 30, "unguessable session id");
    assert_eq!(session["pricing"]["status"], "pending");
    let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    let first = stream.next(WAIT).await;
    assert_eq!(first.event, "pricing");
    assert_eq!(first.data["status"], "pending");
    assert_eq!(first.data["source"], "base");

    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.header("x-winfactor-event"), "pricing.calculated");
    let data = request.json()["data"].clone();
    assert_eq!(data["context"], "live");
    assert_eq!(data["session"], json!({"id": id, "origin": "org_customize"}));
    assert_eq!(data["template"]["slug"], "2-panel-lift-slide");
    assert_eq!(data["template"]["name"], "2-panel Lift-Slide Door");
    assert_eq!(data["configuration"], session["configuration"]);
    assert_eq!(data["configHash"], session["configHash"]);
    assert_eq!(data["submission"], Value::Null);
    assert_eq!(data["basePricing"]["currency"], "EUR");
    assert_eq!(data["basePricing"]["lineItems"], session["pricing"]["lineItems"]);
    assert_eq!(data["callback"]["method"], "PUT");
    assert_eq!(data["callback"]["configHash"], session["configHash"]);
    assert_eq!(data["callback"]["timeoutMs"], 10000);
    let url = data["callback"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/api/v1/configuration-sessions/", app.base))
            && url.ends_with("/adjustments")
    );

    let (status, receipt) = answer(&app, &request, &marked_up(&request)).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["applied"], true);
    let confirmed = stream.until(WAIT, |e| e.data["status"] == "confirmed").await;
    assert_eq!(confirmed.data["source"], "external");
    assert_eq!(confirmed.data["configHash"], session["configHash"]);
    let items = confirmed.data["lineItems"].as_array().unwrap();
    assert_eq!(items.last().unwrap()["description"], "Mounting");
    assert!(items.iter().any(|i| i["externalRef"] == "erp:item:1"));
    let sum: f64 = items.iter().map(|i| i["total"].as_f64().unwrap()).sum();
    assert!((sum - confirmed.data["subtotal"].as_f64().unwrap()).abs() < 1e-9);
    assert!(confirmed.id.parse::<i64>().unwrap() > first.id.parse::<i64>().unwrap());

    // Single use, bound to its hash, unknown tokens are 404.
    let (status, error) = answer(&app, &request, &marked_up(&request)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "callback_already_used");
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/configuration-sessions/cbt_unknown/adjustments",
            None,
            Some(&json!({"configHash": "sha256:00", "lineItems": []})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A change: pending base at once, then the org's price for exactly that configuration.
    let (status, pricing) = put_configuration(&app, id, &with_width(&session, 2500)).await;
    assert_eq!(status, StatusCode::OK, "{pricing}");
    assert_eq!(pricing["status"], "pending");
    let new_hash = pricing["configHash"].clone();
    assert_ne!(new_hash, session["configHash"]);
    let request = receiver.wait_for(2, WAIT).await.remove(1);
    let url = request.json()["data"]["callback"]["url"].as_str().unwrap().to_owned();
    let mismatch = app
        .client
        .put(&url)
        .json(&json!({"configHash": session["configHash"], "lineItems": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::CONFLICT);
    assert_eq!(mismatch.json::<Value>().await.unwrap()["error"]["code"], "config_hash_mismatch");
    let invalid = json!([{"description": "", "quantity": -1, "unitPrice": 1}]);
    let (status, error) = answer(&app, &request, &invalid).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["details"]["errors"][0]["path"], "lineItems[0].description");
    // Echo-able: the base items unchanged are a valid answer (the token survived the 422s).
    let echoed = request.json()["data"]["basePricing"]["lineItems"].clone();
    let (status, _) = answer(&app, &request, &echoed).await;
    assert_eq!(status, StatusCode::OK);
    let confirmed = stream
        .until(WAIT, |e| e.data["configHash"] == new_hash && e.data["status"] == "confirmed")
        .await;
    assert_eq!(confirmed.data["lineItems"], echoed);

    let (status, detail) = app.get(&format!("/api/v1/configuration-sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["configHash"], new_hash);
    assert_eq!(detail["pricing"]["source"], "external");
    assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    assert_eq!(detail["adjustments"].as_array().unwrap().len(), 2);
    let rival = Some(app.seeded.rival_key.as_str());
    let (status, _) =
        app.call(Method::GET, &format!("/api/v1/configuration-sessions/{id}"), rival, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn timeout_falls_back_and_a_late_answer_self_heals(backend: Backend) {
    let app = live_app(backend).await;
    let (status, _) = app.patch("/api/v1/organization", &json!({"pricingTimeoutMs": 600})).await;
    assert_eq!(status, StatusCode::OK);
    let (receiver, session, mut stream) = session_with_receiver(&app).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.json()["data"]["callback"]["timeoutMs"], 600);
    let fallback = stream.until(WAIT, |e| e.data["status"] != "pending").await;
    assert_eq!(fallback.data["status"], "fallback");
    assert_eq!(fallback.data["source"], "base");
    assert_eq!(fallback.data["lineItems"], session["pricing"]["lineItems"]);
    let (status, receipt) = answer(&app, &request, &marked_up(&request)).await;
    assert_eq!(status, StatusCode::OK, "a late answer is still accepted");
    assert_eq!(receipt["applied"], true);
    let healed = stream.next(WAIT).await;
    assert_eq!(healed.data["status"], "confirmed");
    assert_eq!(healed.data["source"], "external");
    // The delivery of the event is in the log; a reconnect resumes after the last id.
    let mut resumed =
        SseClient::connect(session["streamUrl"].as_str().unwrap(), Some(&healed.id)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(resumed.drain().is_empty(), "nothing newer than Last-Event-ID");
    let mut fresh = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    assert_eq!(fresh.next(WAIT).await.data["status"], "confirmed");
    // Open streams end when the server shuts down, so the graceful drain completes.
    tokio::time::timeout(WAIT, app.stop())
        .await
        .expect("graceful shutdown with open event streams");
}

async fn stale_answers_are_kept_for_their_own_configuration(backend: Backend) {
    let app = live_app(backend).await;
    let (receiver, session, mut stream) = session_with_receiver(&app).await;
    let id = session["id"].as_str().unwrap();
    let request_a = receiver.wait_for(1, WAIT).await.remove(0);
    let (_, pricing_b) = put_configuration(&app, id, &with_width(&session, 2600)).await;
    let hash_b = pricing_b["configHash"].clone();
    // The answer for A arrives after the customer moved to B: stored, not shown.
    let (status, receipt) = answer(&app, &request_a, &marked_up(&request_a)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt["applied"], false);
    let request_b = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(request_b.json()["data"]["configHash"], hash_b);
    answer(&app, &request_b, &request_b.json()["data"]["basePricing"]["lineItems"]).await;
    stream.until(WAIT, |e| e.data["configHash"] == hash_b && e.data["status"] == "confirmed").await;
    // Returning to A shows A's stored answer at once, without a new request.
    let (status, back) = put_configuration(&app, id, &session["configuration"]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(back["status"], "confirmed");
    assert_eq!(back["source"], "external");
    assert_eq!(back["configHash"], session["configHash"]);
    assert_eq!(back["lineItems"].as_array().unwrap().last().unwrap()["description"], "Mounting");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2, "no request for a configuration already answered");
}

async fn a_new_configuration_is_not_held_back_by_an_unanswered_one(backend: Backend) {
    let app = live_app(backend).await;
    let (status, _) = app.patch("/api/v1/organization", &json!({"pricingTimeoutMs": 2000})).await;
    assert_eq!(status, StatusCode::OK);
    let (receiver, session, mut stream) = session_with_receiver(&app).await;
    let id = session["id"].as_str().unwrap();
    // The first configuration's request goes out and is not answered; the customer changes
    // the width at once.
    let request_a = receiver.wait_for(1, WAIT).await.remove(0);
    let changed = Instant::now();
    let (status, pricing_b) = put_configuration(&app, id, &with_width(&session, 2600)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pricing_b["status"], "pending");
    let hash_b = pricing_b["configHash"].clone();
    let settled = stream
        .until(WAIT, |e| e.data["configHash"] == hash_b && e.data["status"] != "pending")
        .await;
    let waited = changed.elapsed();
    assert_eq!(settled.data["status"], "fallback");
    assert!(
        waited <= Duration::from_millis(2000 + 1000),
        "pending lasted {waited:?} with timeoutMs 2000: the change waited for the earlier request"
    );
    let hashes: Vec<Value> =
        receiver.received().iter().map(|r| r.json()["data"]["configHash"].clone()).collect();
    assert_eq!(hashes, [session["configHash"].clone(), hash_b.clone()]);
    // The late answer to the first request still lands, for its own configuration.
    let (status, receipt) = answer(&app, &request_a, &marked_up(&request_a)).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["applied"], false);
    let (_, back) = put_configuration(&app, id, &session["configuration"]).await;
    assert_eq!(back["status"], "confirmed");
    assert_eq!(back["source"], "external");
}

async fn a_burst_fires_for_the_newest_configuration_and_never_twice_for_one(backend: Backend) {
    let app = live_app(backend).await;
    let (receiver, session, mut stream) = session_with_receiver(&app).await;
    let id = session["id"].as_str().unwrap().to_owned();
    receiver.wait_for(1, WAIT).await; // the opening configuration's request, left unanswered
    // 20 changes in about 100 ms, back and forth between two widths, ending on a third.
    let mut newest = Value::Null;
    for n in 0..20 {
        let width = if n == 19 { 2600 } else { 2401 + n % 2 };
        let (status, pricing) = put_configuration(&app, &id, &with_width(&session, width)).await;
        assert_eq!(status, StatusCode::OK);
        newest = pricing["configHash"].clone();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The newest fires after the debounce although earlier requests are still out.
    let received = receiver.wait_for(2, WAIT).await;
    let requested = |received: &[Received]| -> Vec<Value> {
        received.iter().map(|r| r.json()["data"]["configHash"].clone()).collect()
    };
    let mut hashes = requested(&received);
    while hashes.last() != Some(&newest) {
        hashes = requested(&receiver.wait_for(hashes.len() + 1, WAIT).await);
        assert!(hashes.len() <= 20, "the newest configuration was never requested");
    }
    assert!(
        hashes.len() <= 4,
        "changes were not coalesced: {} requests for 20 changes",
        hashes.len()
    );
    let mut distinct = hashes.clone();
    distinct.sort_by_key(|h| h.to_string());
    distinct.dedup();
    assert_eq!(distinct.len(), hashes.len(), "two requests out for one configuration: {hashes:?}");
    // Back and forth between configurations whose requests are out asks nothing again.
    put_configuration(&app, &id, &session["configuration"]).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    put_configuration(&app, &id, &with_width(&session, 2600)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = receiver.received();
    assert_eq!(
        requested(&received),
        hashes,
        "a configuration with its request out was asked again"
    );
    let request = received.last().unwrap();
    let (status, _) =
        answer(&app, request, &request.json()["data"]["basePricing"]["lineItems"]).await;
    assert_eq!(status, StatusCode::OK);
    let last = stream
        .until(WAIT, |e| e.data["configHash"] == newest && e.data["status"] == "confirmed")
        .await;
    assert_eq!(last.data["source"], "external");
}

async fn only_an_endpoint_whose_filters_match_makes_a_change_wait(backend: Backend) {
    let app = live_app(backend).await;
    let receiver = Receiver::start().await;
    let filters = json!({"data.template.slug": {"in": ["2-panel-lift-slide"]}});
    app.register_webhook(&receiver.url, &["pricing.calculated"], Some(filters)).await;
    // No endpoint receives this session's events: base pricing is final at once.
    let window = app.open_session("tilt-turn-window").await;
    assert_eq!(window["pricing"]["status"], "confirmed", "{window}");
    assert_eq!(window["pricing"]["source"], "base");
    let id = window["id"].as_str().unwrap();
    let (status, pricing) = put_configuration(&app, id, &with_width(&window, 1000)).await;
    assert_eq!(status, StatusCode::OK, "{pricing}");
    assert_eq!(pricing["status"], "confirmed");
    assert_eq!(pricing["source"], "base");
    // A session the filters match, on the same organisation, still waits for the answer.
    let door = open_session(&app).await;
    assert_eq!(door["pricing"]["status"], "pending");
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.json()["data"]["session"]["id"], door["id"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "the filtered-out session fired an event");
    let (_, events) = app.get("/api/v1/events?eventType=pricing.calculated").await;
    let fired: Vec<&Value> = events["data"].as_array().unwrap().iter().collect();
    assert_eq!(fired.len(), 1, "{events}");
}

async fn submission_freezes_the_matching_adjustment(backend: Backend) {
    let app = live_app(backend).await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated", "submission.created"], None).await;
    let session = open_session(&app).await;
    let id = session["id"].as_str().unwrap();
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    let (_, receipt) = answer(&app, &request, &marked_up(&request)).await;
    let frozen_items = receipt["pricing"]["lineItems"].clone();
    let body = json!({"customer": {"name": "Jane Doe", "email": "Jane@Example.com", "phone": "+31 6 1"}, "notes": "Back door"});
    let (status, submitted) = app
        .call(
            Method::POST,
            &format!("/public/v1/configuration-sessions/{id}/submit"),
            None,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{submitted}");
    assert_eq!(submitted["pricing"]["source"], "external");
    assert_eq!(submitted["pricing"]["lineItems"], frozen_items);
    let received = receiver.wait_for(2, WAIT).await;
    let event = received
        .iter()
        .find(|r| r.header("x-winfactor-event") == "submission.created")
        .expect("submission.created")
        .json();
    let data = &event["data"];
    assert_eq!(data["submission"]["id"], submitted["id"]);
    assert!(data["submission"]["createdAt"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(data["customer"]["name"], "Jane Doe");
    assert_eq!(data["customer"]["email"], "Jane@Example.com");
    assert_eq!(data["customer"]["companyName"], Value::Null);
    assert_eq!(data["template"]["slug"], "2-panel-lift-slide");
    assert_eq!(
        data["configuration"],
        json!({"width": 2400, "height": 1800, "unitAmount": 1, "componentCount": 2})
    );
    assert_eq!(data["pricing"]["source"], "external");
    assert_eq!(data["pricing"]["lineItems"], frozen_items);
    assert_eq!(
        data["urls"]["submissionDetail"],
        format!("{}/api/v1/submissions/{}", app.base, submitted["id"].as_str().unwrap())
    );
    assert!(
        received.iter().all(|r| r.json()["data"]["context"] != "submission"),
        "no second chance was needed"
    );
    let path = format!("/api/v1/submissions/{}", submitted["id"].as_str().unwrap());
    let (_, stored) = app.get(&path).await;
    assert_eq!(stored["externalPricing"]["source"], "external");
    assert_eq!(stored["externalPricing"]["lineItems"], frozen_items);
    // The contact exists (case-insensitive email) and the session is closed.
    let contact = app
        .store
        .contact_by_email(&app.seeded.org.id, "jane@example.com")
        .await
        .unwrap()
        .expect("a contact");
    assert_eq!(contact.submission_count, 1);
    let (status, error) = app
        .call(
            Method::POST,
            &format!("/public/v1/configuration-sessions/{id}/submit"),
            None,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "already_submitted");
    let (status, _) = put_configuration(&app, id, &with_width(&session, 2500)).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn submission_without_answer_gives_the_org_its_chance(backend: Backend) {
    let app = live_app(backend).await;
    let (status, _) = app.patch("/api/v1/organization", &json!({"pricingTimeoutMs": 1500})).await;
    assert_eq!(status, StatusCode::OK);
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated", "submission.created"], None).await;
    // First session: the live request is ignored; the submission request is answered.
    let session = open_session(&app).await;
    let id = session["id"].as_str().unwrap().to_owned();
    receiver.wait_for(1, WAIT).await;
    let submit = {
        let app_url = app.url(&format!("/public/v1/configuration-sessions/{id}/submit"));
        let client = app.client.clone();
        tokio::spawn(async move {
            let body = json!({"customer": {"name": "Sam", "email": "sam@example.com"}});
            let response = client.post(app_url).json(&body).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        })
    };
    let received = receiver.wait_for(2, WAIT).await;
    let chance = &received[1];
    let data = chance.json()["data"].clone();
    assert_eq!(data["context"], "submission");
    assert_eq!(data["submission"]["customer"]["email"], "sam@example.com");
    assert!(data["submission"]["id"].as_str().unwrap().starts_with("sub_"));
    let (status, _) = answer(&app, chance, &marked_up(chance)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, submitted) = submit.await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{submitted}");
    assert_eq!(submitted["pricing"]["source"], "external");
    assert_eq!(submitted["id"], data["submission"]["id"]);

    // Second session: nobody answers; base pricing is frozen after the timeout.
    let session = open_session(&app).await;
    let id = session["id"].as_str().unwrap();
    let body = json!({"customer": {"name": "Bo", "email": "bo@example.com"}});
    let (status, submitted) = app
        .call(
            Method::POST,
            &format!("/public/v1/configuration-sessions/{id}/submit"),
            None,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(submitted["pricing"]["source"], "base");
    let received = receiver.wait_for(6, WAIT).await;
    let created: Vec<_> = received
        .iter()
        .filter(|r| r.header("x-winfactor-event") == "submission.created")
        .map(|r| r.json()["data"]["pricing"]["source"].clone())
        .collect();
    assert_eq!(created, [json!("external"), json!("base")]);
}

async fn without_a_rail_base_pricing_is_final_and_bad_input_fires_nothing(backend: Backend) {
    let app = live_app(backend).await;
    let session = open_session(&app).await;
    assert_eq!(session["pricing"]["status"], "confirmed");
    assert_eq!(session["pricing"]["source"], "base");
    let id = session["id"].as_str().unwrap();
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    let mut bad = session["configuration"].clone();
    bad["components"][0]["width"] = json!(50);
    let (status, error) = put_configuration(&app, id, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["details"]["errors"][0]["path"], "configuration.components[0].width");
    let (status, _) = put_configuration(&app, id, &json!({"width": "wide"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty(), "invalid configurations fire nothing");
    let (status, _) = put_configuration(&app, "cs_doesnotexist", &session["configuration"]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, current) =
        app.call(Method::GET, &format!("/public/v1/configuration-sessions/{id}"), None, None).await;
    assert_eq!(current["configHash"], session["configHash"]);
}

mod example {
    //! `examples/pricing-receiver/receiver.py` runs the loop the overview draws.

    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    use super::*;

    backend_tests!(the_python_pricing_receiver_prices_live);

    async fn the_python_pricing_receiver_prices_live(backend: Backend) {
        let app = live_app(backend).await;
        let (id, secret) = app
            .register_webhook("http://127.0.0.1:9/placeholder", &["pricing.calculated"], None)
            .await;
        let script =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/pricing-receiver/receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .env("WEBHOOK_SECRET", &secret)
            .env("PORT", "0")
            .env("MARGIN", "0.10")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the example");
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let first = tokio::time::timeout(WAIT, lines.recv()).await.unwrap().unwrap();
        let port = serde_json::from_str::<Value>(&first).unwrap()["listening"].as_u64().unwrap();
        let url = format!("http://127.0.0.1:{port}/webhooks");
        assert!(
            app.patch(&format!("/api/v1/webhooks/{id}"), &json!({"url": url})).await.0.is_success()
        );

        let session = open_session(&app).await;
        let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
        let confirmed = stream.until(WAIT, |e| e.data["status"] == "confirmed").await;
        child.kill().ok();
        child.wait().ok();
        assert_eq!(confirmed.data["source"], "external");
        let items = confirmed.data["lineItems"].as_array().unwrap();
        let base = session["pricing"]["lineItems"].as_array().unwrap();
        assert_eq!(items.len(), base.len() + 1);
        assert_eq!(items.last().unwrap()["description"], "Mounting");
        let door = |list: &[Value]| {
            list.iter().find(|i| i["itemType"] == "door").unwrap()["unitPrice"].as_f64().unwrap()
        };
        assert!((door(items) - door(base) * 1.1).abs() < 0.006, "10% margin on the door");
    }
}

/// A session stored as `pending` with no task watching it (the process that fired for it
/// died): following its stream prices it again.
async fn a_session_left_pending_by_another_process_is_priced_again(backend: Backend) {
    use winfactor::catalog::{PricingSource, PricingStatus, SessionPricing};
    use winfactor::catalog::{base_pricing, config_hash};
    let app = live_app(backend).await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    let template =
        app.store.template(&app.seeded.org.id, "2-panel-lift-slide").await.unwrap().unwrap();
    let configuration = template.default_configuration.clone();
    let hash = config_hash(&configuration);
    let pending = SessionPricing::new(
        &hash,
        PricingStatus::Pending,
        PricingSource::Base,
        base_pricing(&template, &configuration, "EUR"),
    );
    let session = app
        .store
        .insert_session(
            &winfactor::Store::new_session_id(),
            &app.seeded.org.id,
            &template,
            "configurator",
            &configuration,
            &pending,
            None,
        )
        .await
        .unwrap();
    let url = app.url(&format!("/public/v1/configuration-sessions/{}/stream", session.id));
    let mut stream = SseClient::connect(&url, None).await;
    assert_eq!(stream.next(WAIT).await.data["status"], "pending");
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.json()["data"]["configHash"], json!(hash));
    answer(&app, &request, &marked_up(&request)).await;
    let confirmed = stream.until(WAIT, |e| e.data["status"] == "confirmed").await;
    assert_eq!(confirmed.data["source"], "external");
}

/// A double-clicking customer (or two tabs): changes of one session that race each other
/// all succeed, and each is numbered in the history exactly once.
async fn concurrent_changes_of_one_session_each_get_their_own_history_entry(backend: Backend) {
    let app = live_app(backend).await;
    let session = open_session(&app).await;
    let url = app.url(&format!(
        "/public/v1/configuration-sessions/{}/configuration",
        session["id"].as_str().unwrap()
    ));
    let mut changes = tokio::task::JoinSet::new();
    for n in 0..32 {
        let request = app
            .client
            .put(&url)
            .json(&json!({ "configuration": with_width(&session, 2410 + n * 10) }));
        changes.spawn(async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        });
    }
    let mut hashes = vec![session["configHash"].clone()];
    while let Some(change) = changes.join_next().await {
        let (status, pricing) = change.unwrap();
        assert_eq!(status, StatusCode::OK, "{pricing}");
        hashes.push(pricing["configHash"].clone());
    }
    let (status, detail) = app
        .get(&format!("/api/v1/configuration-sessions/{}", session["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let history = detail["history"].as_array().unwrap();
    let seqs: Vec<i64> = history.iter().map(|entry| entry["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=33).collect::<Vec<_>>(), "{detail}");
    let mut recorded: Vec<String> =
        history.iter().map(|entry| entry["configHash"].as_str().unwrap().to_owned()).collect();
    let mut expected: Vec<String> =
        hashes.iter().map(|hash| hash.as_str().unwrap().to_owned()).collect();
    recorded.sort();
    expected.sort();
    assert_eq!(recorded, expected);
}

/// The server starts a change from its own latest view of the session; another process
/// (a second replica) that changed or submitted the session meanwhile is not overwritten:
/// the change is worked out again on what is stored, or refused once submitted.
async fn a_change_starts_from_what_another_process_stored(backend: Backend) {
    use winfactor::catalog::{PricingSource, PricingStatus, SessionPricing};
    use winfactor::catalog::{base_pricing, config_hash};
    let app = live_app(backend).await;
    let session = open_session(&app).await;
    let id = session["id"].as_str().unwrap();
    let (status, _) = put_configuration(&app, id, &with_width(&session, 2500)).await;
    assert_eq!(status, StatusCode::OK);

    let other = winfactor::Store::open(&app.config.database_url).await.unwrap();
    let stored = other.session(id).await.unwrap().unwrap();
    let template =
        app.store.template(&app.seeded.org.id, "2-panel-lift-slide").await.unwrap().unwrap();
    let mut configuration = stored.configuration.clone();
    configuration.width = 2600;
    let hash = config_hash(&configuration);
    let pricing = SessionPricing::new(
        &hash,
        PricingStatus::Confirmed,
        PricingSource::Base,
        base_pricing(&template, &configuration, "EUR"),
    );
    let changed = other.change_session_configuration(&stored, 1, &configuration, &pricing, None);
    assert!(changed.await.unwrap().is_some());
    // The same view again is stale now: refused, nothing written.
    let again = other.change_session_configuration(&stored, 1, &configuration, &pricing, None);
    assert_eq!(again.await.unwrap(), None);

    let (status, answer) = put_configuration(&app, id, &with_width(&session, 2700)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, unchanged) = put_configuration(&app, id, &with_width(&session, 2700)).await;
    assert_eq!((status, &unchanged["configHash"]), (StatusCode::OK, &answer["configHash"]));
    let (_, detail) = app.get(&format!("/api/v1/configuration-sessions/{id}")).await;
    let history: Vec<(i64, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["seq"].as_i64().unwrap(), entry["configHash"].as_str().unwrap().into()))
        .collect();
    assert_eq!(history.len(), 4, "{detail}");
    assert_eq!(history.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(history[2].1, hash, "the other process's change kept its place");
    assert_eq!(history[3].1, answer["configHash"].as_str().unwrap());

    let mut tx = other.begin().await.unwrap();
    assert!(tx.mark_session_submitted(id, "sub_elsewhere").await.unwrap());
    tx.commit().await.unwrap();
    for width in [2800, 2700] {
        let (status, refused) = put_configuration(&app, id, &with_width(&session, width)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(refused["error"]["code"], "already_submitted", "{refused}");
    }
    let (_, detail) = app.get(&format!("/api/v1/configuration-sessions/{id}")).await;
    assert_eq!(detail["history"].as_array().unwrap().len(), 4, "nothing written once submitted");
    other.close().await;
}
