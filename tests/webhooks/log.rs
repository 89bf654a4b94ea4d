//! The delivery log: listing, filters, paging; the transactional outbox; lead pipeline.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use winfactor::outbox::emit;
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests, lead_created};

backend_tests!(
    the_log_pages_newest_first_with_filters,
    events_commit_or_roll_back_with_their_change,
    leads_move_through_the_pipeline,
    a_receivers_nul_bytes_are_logged_replaced,
);

const WAIT: Duration = Duration::from_secs(10);

async fn the_log_pages_newest_first_with_filters(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    for n in 0..5 {
        app.submit_lead("Page", &format!("page{n}@example.com"), &format!("lead {n}")).await;
    }
    receiver.wait_for(5, WAIT).await;
    let (status, first) = app.get("/api/v1/events?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let page: Vec<_> = first["data"].as_array().unwrap().clone();
    assert_eq!(page.len(), 2);
    assert!(page[0]["createdAt"].as_i64() >= page[1]["createdAt"].as_i64());
    assert!(page[0].get("payload").is_none());
    let mut seen: Vec<String> = page.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    let mut cursor = first["nextCursor"].as_str().unwrap().to_owned();
    loop {
        let (_, next) = app.get(&format!("/api/v1/events?limit=2&cursor={cursor}")).await;
        seen.extend(
            next["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match next["nextCursor"].as_str() {
            Some(more) => cursor = more.to_owned(),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "every event exactly once across pages: {seen:?}");

    let (_, typed) = app.get("/api/v1/events?eventType=quote.sent").await;
    assert!(typed["data"].as_array().unwrap().is_empty());
    let (_, by_endpoint) =
        app.get(&format!("/api/v1/events?endpointId={endpoint}&limit=100")).await;
    assert_eq!(by_endpoint["data"].as_array().unwrap().len(), 5);
    let newest = page[0]["createdAt"].as_i64().unwrap();
    let (_, after) = app.get(&format!("/api/v1/events?createdAfter={newest}")).await;
    assert!(after["data"].as_array().unwrap().is_empty());
    for bad in ["limit=0", "cursor=%%%", "status=lost", "createdAfter=soon"] {
        let (status, body) = app.get(&format!("/api/v1/events?{bad}")).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {status} {body}"
        );
    }
}

async fn events_commit_or_roll_back_with_their_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["*"], None).await;
    let event = |note: &str| lead_created(json!({"note": note}));
    let mut rolled_back = app.store.begin().await.unwrap();
    emit(&mut rolled_back, &app.seeded.org, event("rolled back")).await.unwrap();
    drop(rolled_back);
    let mut committed = app.store.begin().await.unwrap();
    let id = emit(&mut committed, &app.seeded.org, event("committed")).await.unwrap();
    committed.commit().await.unwrap();

    let received = receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(received[0].header("x-winfactor-delivery"), id);
    assert_eq!(received[0].json()["data"]["note"], "committed");
    let (_, log) = app.get("/api/v1/events").await;
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "the rolled-back event left no trace");
}

async fn leads_move_through_the_pipeline(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = app.submit_lead("Pia", "pia@example.com", "Call me").await;
    let (_, new) = app.get("/api/v1/leads?status=new").await;
    assert_eq!(new["data"][0]["id"], id.as_str());
    assert_eq!(new["data"][0]["phone"], "+31 6 1234 5678");
    let (status, lead) =
        app.patch(&format!("/api/v1/leads/{id}"), &json!({"status": "qualified"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lead["status"], "qualified");
    let (_, new) = app.get("/api/v1/leads?status=new").await;
    assert!(new["data"].as_array().unwrap().is_empty());
    let (status, _) = app.patch(&format!("/api/v1/leads/{id}"), &json!({"status": "won"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.get("/api/v1/leads/lead_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The first KiB of a receiver's answer is its text, not ours: NUL bytes in it (which
/// Postgres cannot store) are logged replaced, and the batch that records them — another
/// endpoint's delivery included — is recorded.
async fn a_receivers_nul_bytes_are_logged_replaced(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hostile = Receiver::scripted(|_, _| Reply { body: "got\0it\0", ..Reply::ok() }).await;
    let plain = Receiver::start().await;
    app.register_webhook(&hostile.url, &["lead.created"], None).await;
    app.register_webhook(&plain.url, &["lead.created"], None).await;
    app.submit_lead("Nul", "nul@example.com", "Answer me").await;
    let id = hostile.wait_for(1, WAIT).await[0].header("x-winfactor-delivery").to_owned();
    plain.wait_for(1, WAIT).await;
    let done = |e: &serde_json::Value| {
        e["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == "delivered")
    };
    let event = app.wait_for_event(&id, WAIT, done).await;
    let bodies: Vec<_> = event["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attemptsLog"][0]["responseBody"].as_str().unwrap().to_owned())
        .collect();
    assert!(bodies.contains(&"got\u{FFFD}it\u{FFFD}".to_owned()), "{bodies:?}");
    assert!(bodies.contains(&"scripted".to_owned()), "{bodies:?}");
}
