//! Envelope, headers, signatures, retries, timeouts, expiry of the schedule, Retry-After,
//! 410, automatic disabling, rotation, filters, fairness between endpoints.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use winfactor::outbox::{LaneLeases, emit};
use winfactor_tests::signatures::{
    python_standardwebhooks_verifies, standard_signature_valid, winfactor_signature_valid,
};
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests, lead_created};

backend_tests!(
    envelope_headers_and_signatures_are_as_specified,
    failures_are_retried_then_failed_and_redelivered_with_the_same_id,
    timeouts_and_retry_after_are_honoured,
    gone_and_continuous_failure_disable_the_endpoint,
    rotation_signs_with_both_secrets,
    filters_select_what_an_endpoint_receives,
    a_slow_receiver_does_not_delay_others,
    a_capped_endpoint_drains_without_waiting_for_the_poll,
    a_slow_backlog_does_not_hide_the_deliveries_behind_it,
    an_endpoint_never_has_more_than_its_cap_in_flight,
);

const WAIT: Duration = Duration::from_secs(10);

async fn fast_app(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |config| {
        config.delivery.retry_schedule = winfactor::outbox::RetrySchedule(vec![
            Duration::from_millis(50),
            Duration::from_millis(100),
            Duration::from_millis(150),
        ]);
        config.delivery.timeout = Duration::from_millis(500);
    })
    .await
}

async fn envelope_headers_and_signatures_are_as_specified(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    let (_, secret) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    let message =
        "I am interested in custom sliding doors for my showroom. Can you provide a quote?";
    let response = app
        .client
        .post(app.url("/public/v1/orgs/window-works/leads"))
        .header("accept-language", "de-DE,de;q=0.9")
        .json(&json!({"name": "Jane Smith", "email": "jane@example.com", "phone": "+31612345678", "message": message}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let lead_id =
        response.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.header("content-type"), "application/json");
    assert!(request.header("user-agent").starts_with("WinFactor-Webhooks/"));
    assert_eq!(request.header("x-winfactor-event"), "lead.created");
    let delivery_id = request.header("x-winfactor-delivery").to_owned();
    assert!(delivery_id.starts_with("evt_"));
    assert_eq!(request.header("webhook-id"), delivery_id);
    let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    assert!(request.header("x-winfactor-signature").starts_with(&format!("t={timestamp},v1=")));
    assert!(winfactor_signature_valid(&request, &secret), "X-WinFactor-Signature does not verify");
    assert!(standard_signature_valid(&request, &secret), "webhook-signature does not verify");
    assert!(python_standardwebhooks_verifies(&request, &secret), "standardwebhooks rejects it");
    assert!(!winfactor_signature_valid(&request, "whsec_d3Jvbmc="));
    assert!(!python_standardwebhooks_verifies(&request, "whsec_d3Jvbmcgc2VjcmV0IQ=="));

    let body = request.json();
    assert_eq!(body["version"], "1.0");
    assert_eq!(body["event"], "lead.created");
    assert_eq!(body["eventType"], "lead.created");
    let stamp = body["timestamp"].as_str().unwrap();
    assert!(stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T', "{stamp}");
    assert_eq!(body["orgLocale"], "en");
    assert_eq!(body["customerLocale"], "de");
    let org = &body["organization"];
    assert_eq!(org["id"], app.seeded.org.id.as_str());
    assert_eq!(org["name"], "Window Works Inc");
    assert_eq!(org["slug"], "window-works");
    for field in ["email", "phone", "logoUrl"] {
        assert!(org[field].is_string(), "organization.{field}");
    }
    let data = &body["data"];
    assert_eq!(data["lead"]["id"], lead_id.as_str());
    assert!(data["lead"]["createdAt"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(data["contact"]["name"], "Jane Smith");
    assert_eq!(data["contact"]["email"], "jane@example.com");
    assert_eq!(data["contact"]["phone"], "+31612345678");
    assert_eq!(data["contact"]["message"], message);
    assert_eq!(
        data["contact"]["messagePreview"],
        "I am interested in custom sliding doors for my showroom. Can you provide..."
    );
    assert!(data["urls"]["leadsPage"].as_str().unwrap().starts_with(&app.base));

    // The log knows the event under the same id, delivered on the first attempt.
    let event = app
        .wait_for_event(&delivery_id, WAIT, |e| e["deliveries"][0]["status"] == "delivered")
        .await;
    assert_eq!(event["payload"], body);
    assert_eq!(event["deliveries"][0]["attempts"], 1);
    assert_eq!(event["deliveries"][0]["attemptsLog"][0]["statusCode"], 200);
    let (_, lead) = app.get(&format!("/api/v1/leads/{lead_id}")).await;
    assert_eq!(lead["status"], "new");
}

async fn failures_are_retried_then_failed_and_redelivered_with_the_same_id(backend: Backend) {
    let app = fast_app(backend).await;
    let receiver = Receiver::scripted(|_, _| Reply::status(500)).await;
    app.register_webhook(&receiver.url, &["*"], None).await;
    app.submit_lead("Ann", "ann@example.com", "Retry me").await;
    let attempts = receiver.wait_for(4, WAIT).await;
    let id = attempts[0].header("x-winfactor-delivery").to_owned();
    assert!(
        attempts
            .iter()
            .all(|r| r.header("x-winfactor-delivery") == id && r.body == attempts[0].body)
    );
    let event = app.wait_for_event(&id, WAIT, |e| e["deliveries"][0]["status"] == "failed").await;
    let delivery = &event["deliveries"][0];
    assert_eq!(delivery["attempts"], 4, "one attempt plus the three scheduled retries");
    assert_eq!(delivery["lastStatusCode"], 500);
    assert_eq!(delivery["attemptsLog"].as_array().unwrap().len(), 4);
    assert_eq!(delivery["attemptsLog"][3]["responseBody"], "scripted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 4, "no attempt after the schedule ran out");

    let (status, failed) = app.get("/api/v1/events?status=failed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(failed["data"][0]["id"], id.as_str());

    receiver.rescript(|_, _| Reply::ok());
    let (status, body) = app.post(&format!("/api/v1/events/{id}/redeliver"), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["requeued"], 1);
    let again = receiver.wait_for(5, WAIT).await;
    assert_eq!(again[4].header("x-winfactor-delivery"), id);
    assert_eq!(again[4].header("webhook-id"), id);
    let event =
        app.wait_for_event(&id, WAIT, |e| e["deliveries"][0]["status"] == "delivered").await;
    // Every attempt stays in the log, in order, each with its own answer.
    let log: Vec<(i64, i64)> = event["deliveries"][0]["attemptsLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["attempt"].as_i64().unwrap(), a["statusCode"].as_i64().unwrap()))
        .collect();
    assert_eq!(log, [(1, 500), (2, 500), (3, 500), (4, 500), (5, 200)]);
    // A delivered event can be redelivered again; an unknown one is a 404.
    let (status, _) = app.post(&format!("/api/v1/events/{id}/redeliver"), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    receiver.wait_for(6, WAIT).await;
    let (status, _) = app.post("/api/v1/events/evt_unknown/redeliver", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn timeouts_and_retry_after_are_honoured(backend: Backend) {
    let app = fast_app(backend).await;
    // First answer comes after the 500 ms timeout; the retry succeeds.
    let receiver = Receiver::scripted(|n, _| match n {
        0 => Reply { delay: Duration::from_secs(2), ..Reply::ok() },
        _ => Reply::ok(),
    })
    .await;
    app.register_webhook(&receiver.url, &["lead.created"], None).await;
    app.submit_lead("Tim", "tim@example.com", "Slow receiver").await;
    let received = receiver.wait_for(2, WAIT).await;
    let id = received[0].header("x-winfactor-delivery").to_owned();
    let event =
        app.wait_for_event(&id, WAIT, |e| e["deliveries"][0]["status"] == "delivered").await;
    let log = &event["deliveries"][0]["attemptsLog"];
    assert!(log[0]["error"].as_str().unwrap().contains("timeout"), "{log}");
    assert!(log[0]["statusCode"].is_null());
    assert_eq!(log[1]["statusCode"], 200);

    // 503 with Retry-After: 1 pushes the retry past the 50 ms schedule step.
    let limited = Receiver::scripted(|n, _| match n {
        0 => Reply { retry_after: Some("1"), ..Reply::status(503) },
        _ => Reply::ok(),
    })
    .await;
    let (endpoint, _) = app.register_webhook(&limited.url, &["lead.created"], None).await;
    app.submit_lead("Rae", "rae@example.com", "Rate limited").await;
    let received = limited.wait_for(2, WAIT).await;
    let gap = received[1].at - received[0].at;
    assert!(gap >= Duration::from_millis(900), "retried after {gap:?} despite Retry-After: 1");
    let (_, events) = app.get(&format!("/api/v1/events?endpointId={endpoint}")).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
}

async fn gone_and_continuous_failure_disable_the_endpoint(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.delivery.retry_schedule =
            winfactor::outbox::RetrySchedule(vec![Duration::from_millis(100); 5]);
        config.delivery.disable_after = Duration::from_millis(250);
    })
    .await;
    let gone = Receiver::scripted(|_, _| Reply::status(410)).await;
    let (gone_id, _) = app.register_webhook(&gone.url, &["lead.created"], None).await;
    let failing = Receiver::scripted(|_, _| Reply::status(500)).await;
    let (failing_id, _) = app.register_webhook(&failing.url, &["lead.created"], None).await;
    app.submit_lead("Gil", "gil@example.com", "Anyone there?").await;

    gone.wait_for(1, WAIT).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, endpoint) = app.get(&format!("/api/v1/webhooks/{gone_id}")).await;
        if endpoint["enabled"] == false {
            assert_eq!(endpoint["disabledReason"], "gone");
            break;
        }
        assert!(Instant::now() < deadline, "410 did not disable the endpoint");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let (_, endpoint) = app.get(&format!("/api/v1/webhooks/{failing_id}")).await;
        if endpoint["enabled"] == false {
            assert_eq!(endpoint["disabledReason"], "failing");
            assert!(endpoint["failingSince"].is_i64());
            break;
        }
        assert!(Instant::now() < deadline, "continuous failures did not disable the endpoint");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gone.received().len(), 1, "no retry after 410 Gone");
    // Disabled endpoints get nothing new; re-enabling clears the platform's reason.
    let before = failing.received().len();
    app.submit_lead("Gil", "gil@example.com", "Second try").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(failing.received().len(), before);
    let (status, endpoint) =
        app.patch(&format!("/api/v1/webhooks/{failing_id}"), &json!({"enabled": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(endpoint["disabledReason"], serde_json::Value::Null);
    assert_eq!(endpoint["failingSince"], serde_json::Value::Null);
}

async fn rotation_signs_with_both_secrets(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    let (id, old_secret) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    let (status, rotated) =
        app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != old_secret);
    let grace = rotated["previousSecretExpiresAt"].as_i64().unwrap();
    let day = 24 * 3600 * 1000;
    assert!(
        (grace - rotated["updatedAt"].as_i64().unwrap() - day).abs() < 5000,
        "24 h grace by default"
    );
    let (_, listed) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert!(listed.get("secret").is_none(), "the secret is only shown on create and rotate");

    app.submit_lead("Rob", "rob@example.com", "Rotate").await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.header("x-winfactor-signature").matches("v1=").count(), 2);
    assert_eq!(request.header("webhook-signature").split(' ').count(), 2);
    for secret in [&old_secret, &new_secret] {
        assert!(winfactor_signature_valid(&request, secret));
        assert!(standard_signature_valid(&request, secret));
        assert!(python_standardwebhooks_verifies(&request, secret));
    }

    // Without a grace period only the new secret signs.
    let (_, rotated) = app
        .post(&format!("/api/v1/webhooks/{id}/rotate-secret"), &json!({"gracePeriodSeconds": 0}))
        .await;
    let newest = rotated["secret"].as_str().unwrap().to_owned();
    app.submit_lead("Rob", "rob@example.com", "Rotate again").await;
    let request = receiver.wait_for(2, WAIT).await.remove(1);
    assert!(winfactor_signature_valid(&request, &newest));
    assert!(!winfactor_signature_valid(&request, &new_secret));
    assert_eq!(request.header("webhook-signature").split(' ').count(), 1);
}

async fn filters_select_what_an_endpoint_receives(backend: Backend) {
    let app = TestApp::start(backend).await;
    let all = Receiver::start().await;
    let filtered = Receiver::start().await;
    app.register_webhook(&all.url, &["lead.created"], None).await;
    let filter = json!({"data.contact.email": {"in": ["vip@example.com"]}, "data.contact.name": {"ne": "Nobody"}});
    app.register_webhook(&filtered.url, &["lead.created"], Some(filter)).await;
    app.submit_lead("Val", "vip@example.com", "Important").await;
    app.submit_lead("Ord", "ordinary@example.com", "Regular").await;
    app.submit_lead("Nobody", "vip@example.com", "Filtered by name").await;
    all.wait_for(3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = filtered.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["contact"]["name"], "Val");

    let (status, body) = app
        .post("/api/v1/webhooks", &json!({"url": all.url, "events": ["lead.created"], "filters": {"data.x": {"near": 1}}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["errors"][0]["path"], "filters.data.x.near");
    // Subscriptions filter by type too: a quote-only endpoint hears nothing of leads.
    let quotes = Receiver::start().await;
    app.register_webhook(&quotes.url, &["quote.sent"], None).await;
    app.submit_lead("Val", "vip@example.com", "Again").await;
    all.wait_for(4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(quotes.received().is_empty());
}

async fn a_slow_receiver_does_not_delay_others(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.delivery.timeout = Duration::from_secs(5);
        config.delivery.endpoint_concurrency = 2;
    })
    .await;
    let slow =
        Receiver::scripted(|_, _| Reply { delay: Duration::from_secs(2), ..Reply::ok() }).await;
    let quick = Receiver::start().await;
    app.register_webhook(&slow.url, &["lead.created"], None).await;
    app.register_webhook(&quick.url, &["lead.created"], None).await;
    for n in 0..10 {
        app.submit_lead("Bulk", &format!("bulk{n}@example.com"), "Many at once").await;
    }
    quick.wait_for(10, WAIT).await;
    // The slow endpoint runs at most 2 at a time and has not finished its first pair yet.
    assert!(slow.received().len() <= 2, "slow endpoint exceeded its concurrency cap");
}

/// Deliveries a claim left in the database because their endpoint was at its cap go out as
/// soon as it has room again, not at the next poll.
async fn a_capped_endpoint_drains_without_waiting_for_the_poll(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.delivery.concurrency = 2;
        config.delivery.endpoint_concurrency = 1;
        // Only a missed wake-up waits this long.
        config.delivery.poll_interval = Duration::from_secs(60);
    })
    .await;
    let receiver =
        Receiver::scripted(|_, _| Reply { delay: Duration::from_millis(20), ..Reply::ok() }).await;
    app.register_webhook(&receiver.url, &["lead.created"], None).await;
    for n in 0..20 {
        app.submit_lead("Queue", &format!("queue{n}@example.com"), "One after another").await;
    }
    receiver.wait_for(20, WAIT).await;
}

/// A slow endpoint's backlog ahead of another endpoint's delivery in due order, all
/// committed at once, fills the slow endpoint up with the first claim; once its deliveries
/// are all parked at its cap and the lane has free slots, the lane looks past them rather
/// than leaving the other delivery to the poll or to the slow endpoint's progress.
async fn a_slow_backlog_does_not_hide_the_deliveries_behind_it(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.delivery.concurrency = 4;
        config.delivery.endpoint_concurrency = 1;
        config.delivery.poll_interval = Duration::from_secs(60);
    })
    .await;
    let slow =
        Receiver::scripted(|_, _| Reply { delay: Duration::from_secs(3), ..Reply::ok() }).await;
    let quick = Receiver::start().await;
    let to = |who: &str| Some(json!({ "data.to": { "eq": who } }));
    app.register_webhook(&slow.url, &["lead.created"], to("slow")).await;
    app.register_webhook(&quick.url, &["lead.created"], to("quick")).await;
    let event = |who: &str| lead_created(json!({ "to": who }));
    let mut tx = app.store.begin().await.unwrap();
    for _ in 0..20 {
        emit(&mut tx, &app.seeded.org, event("slow")).await.unwrap();
    }
    emit(&mut tx, &app.seeded.org, event("quick")).await.unwrap();
    tx.commit().await.unwrap();
    // Left behind, it would wait for a dozen of the slow endpoint's 3-second answers.
    quick.wait_for(1, Duration::from_secs(2)).await;
}

/// An endpoint with a backlog gets its deliveries both from the ready queue and from those
/// parked at its cap; however the two meet, it never has more than its cap in flight.
async fn an_endpoint_never_has_more_than_its_cap_in_flight(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.delivery.concurrency = 8;
        config.delivery.endpoint_concurrency = 2;
    })
    .await;
    let receiver =
        Receiver::scripted(|_, _| Reply { delay: Duration::from_millis(5), ..Reply::ok() }).await;
    app.register_webhook(&receiver.url, &["lead.created"], None).await;
    let event = lead_created(json!({ "note": "backlog" }));
    for _ in 0..4 {
        let mut tx = app.store.begin().await.unwrap();
        for _ in 0..50 {
            emit(&mut tx, &app.seeded.org, event.clone()).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    receiver.wait_for(200, WAIT).await;
    assert_eq!(receiver.most_in_flight(), 2, "the endpoint's cap is 2");
}

/// SQLite's queued lane is held by one process at a time (one lease for the lane, see
/// `outbox/lane_lease.rs`): a second holder is refused while the first's lease runs, and takes
/// the lane once it runs out or at once after a release.
#[tokio::test]
async fn the_queued_lane_has_one_holder_at_a_time_on_sqlite() {
    let database = winfactor_tests::TestDatabase::create(Backend::Sqlite).await;
    let config = winfactor::Config::for_database(&database.url).unwrap();
    let store = winfactor::Store::open(&config.database_url).await.unwrap();
    assert!(store.leases_whole_queued_lane());
    let now = winfactor::clock::now_ms();
    assert!(store.take_lane_lease("first", now + 60_000).await.unwrap());
    assert!(!store.take_lane_lease("second", now + 60_000).await.unwrap(), "lease still runs");
    assert!(store.take_lane_lease("first", now + 120_000).await.unwrap(), "the holder renews");
    store.release_lane_lease("second").await.unwrap(); // not the holder: changes nothing
    assert!(!store.take_lane_lease("second", now + 60_000).await.unwrap());
    store.release_lane_lease("first").await.unwrap();
    assert!(store.take_lane_lease("second", now + 200).await.unwrap(), "released: taken at once");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.take_lane_lease("third", now + 60_000).await.unwrap(), "ran out: taken over");
}
