//! Endpoint management: CRUD, validation, SSRF refusals, test sends, recovery, tenancy.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use winfactor::outbox::{NewEndpoint, WebhookEndpoints};
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests};

backend_tests!(
    endpoints_are_managed_through_the_api,
    private_and_plain_http_targets_are_refused,
    test_sends_report_the_receivers_answer,
    recover_requeues_failures_since_a_time,
    endpoints_and_events_are_tenant_scoped,
    the_lead_form_is_rate_limited,
);

const WAIT: Duration = Duration::from_secs(10);

async fn endpoints_are_managed_through_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    let (status, created) = app
        .post("/api/v1/webhooks", &json!({"url": receiver.url, "events": ["quote.sent", "lead.created"], "description": "CRM"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.decode(&secret[6..]).unwrap();
    assert!(key.len() >= 24);
    assert_eq!(created["enabled"], true);

    let (_, list) = app.get("/api/v1/webhooks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("secret").is_none());

    let (status, updated) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &json!({"events": ["*"], "description": null, "enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["events"], json!(["*"]));
    assert_eq!(updated["description"], serde_json::Value::Null);
    assert_eq!(updated["enabled"], false);

    for (body, path) in [
        (json!({"url": receiver.url, "events": []}), "events"),
        (json!({"url": receiver.url, "events": ["quote.teleported"]}), "events[0]"),
        (json!({"url": "not a url", "events": ["*"]}), "url"),
    ] {
        let (status, error) = app.post("/api/v1/webhooks", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["details"]["errors"][0]["path"], path);
    }
    let read = Some(app.seeded.read_key.as_str());
    let body = json!({"url": receiver.url, "events": ["*"]});
    let (status, _) = app.call(Method::POST, "/api/v1/webhooks", read, Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = app
        .call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), Some(&app.seeded.key), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn private_and_plain_http_targets_are_refused(backend: Backend) {
    let app =
        TestApp::start_with(backend, |config| config.delivery.allow_private_targets = false).await;
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://172.20.1.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://0.0.0.0/hook",
        // IPv6 forms that embed or stand for an internal IPv4 address, and deprecated ones.
        "https://[::127.0.0.1]/hook",
        "https://[::ffff:0:7f00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[fec0::1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "https://[64:ff9b::a00:1]/hook",
    ] {
        let (status, body) =
            app.post("/api/v1/webhooks", &json!({"url": url, "events": ["*"]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        let error = &body["error"]["details"]["errors"][0];
        assert_eq!(error["path"], "url");
        if url.starts_with("https://") {
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("is not a public address"), "{url}: {message}");
        }
    }
    // An endpoint that points inside anyway (e.g. stored before a DNS change) is refused at
    // connect time and the refusal is in the log.
    let receiver = Receiver::start().await;
    let new = NewEndpoint {
        url: receiver.url.clone(),
        description: None,
        events: vec!["*".into()],
        filters: None,
        enabled: true,
        secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0".into(),
    };
    app.store.insert_endpoint(&app.seeded.org.id, &new).await.unwrap();
    app.submit_lead("Sam", "sam@example.com", "Internal target").await;
    let (_, events) = app.get("/api/v1/events").await;
    let id = events["data"][0]["id"].as_str().unwrap().to_owned();
    let event = app
        .wait_for_event(&id, WAIT, |e| {
            e["deliveries"][0]["attemptsLog"].as_array().is_some_and(|l| !l.is_empty())
        })
        .await;
    let error = event["deliveries"][0]["attemptsLog"][0]["error"].as_str().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(receiver.received().is_empty());
}

async fn test_sends_report_the_receivers_answer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver =
        Receiver::scripted(|n, _| if n == 0 { Reply::ok() } else { Reply::status(418) }).await;
    let (id, secret) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    let (status, result) = app.post(&format!("/api/v1/webhooks/{id}/test"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["delivered"], true);
    assert_eq!(result["statusCode"], 200);
    assert_eq!(result["responseBody"], "scripted");
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.header("x-winfactor-event"), "webhook.test");
    assert_eq!(request.header("x-winfactor-delivery"), result["eventId"].as_str().unwrap());
    assert!(winfactor_tests::signatures::winfactor_signature_valid(&request, &secret));
    let (_, result) = app.post(&format!("/api/v1/webhooks/{id}/test"), &json!({})).await;
    assert_eq!(result["delivered"], false);
    assert_eq!(result["statusCode"], 418);
}

async fn recover_requeues_failures_since_a_time(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.delivery.retry_schedule = winfactor::outbox::RetrySchedule(vec![]);
    })
    .await;
    let receiver = Receiver::scripted(|_, _| Reply::status(502)).await;
    let (id, _) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    for n in 0..3 {
        app.submit_lead("Out", &format!("out{n}@example.com"), "During the outage").await;
    }
    receiver.wait_for(3, WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (_, failed) = app.get(&format!("/api/v1/events?status=failed&endpointId={id}")).await;
        if failed["data"].as_array().unwrap().len() == 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    receiver.rescript(|_, _| Reply::ok());
    let (status, body) = app
        .post(&format!("/api/v1/webhooks/{id}/recover"), &json!({"since": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["requeued"], 3);
    let received = receiver.wait_for(6, WAIT).await;
    let mut first: Vec<_> =
        received[..3].iter().map(|r| r.header("x-winfactor-delivery").to_owned()).collect();
    let mut again: Vec<_> =
        received[3..].iter().map(|r| r.header("x-winfactor-delivery").to_owned()).collect();
    first.sort();
    again.sort();
    assert_eq!(first, again, "recovered deliveries keep their ids");
    let (status, _) =
        app.post(&format!("/api/v1/webhooks/{id}/recover"), &json!({"since": "yesterday"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn endpoints_and_events_are_tenant_scoped(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    let (id, _) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    app.submit_lead("Ten", "ten@example.com", "Mine").await;
    receiver.wait_for(1, WAIT).await;
    let (_, events) = app.get("/api/v1/events").await;
    let event_id = events["data"][0]["id"].as_str().unwrap().to_owned();
    let rival = Some(app.seeded.rival_key.as_str());
    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/{id}")),
        (Method::PATCH, format!("/api/v1/webhooks/{id}")),
        (Method::DELETE, format!("/api/v1/webhooks/{id}")),
        (Method::POST, format!("/api/v1/webhooks/{id}/test")),
        (Method::POST, format!("/api/v1/webhooks/{id}/rotate-secret")),
        (Method::GET, format!("/api/v1/events/{event_id}")),
        (Method::POST, format!("/api/v1/events/{event_id}/redeliver")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"enabled": false}));
        let (status, error) = app.call(method.clone(), &path, rival, body.as_ref()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {error}");
    }
    let (_, rival_events) = app.call(Method::GET, "/api/v1/events", rival, None).await;
    assert!(rival_events["data"].as_array().unwrap().is_empty());
    let (_, rival_leads) = app.call(Method::GET, "/api/v1/leads", rival, None).await;
    assert!(rival_leads["data"].as_array().unwrap().is_empty());
    let (_, mine) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(mine["enabled"], true, "the rival's PATCH changed nothing");
}

async fn the_lead_form_is_rate_limited(backend: Backend) {
    let app = TestApp::start_with(backend, |config| config.lead_rate_per_minute = 3).await;
    let body = json!({"name": "Spam", "email": "spam@example.com", "message": "again"});
    let path = "/public/v1/orgs/window-works/leads";
    for _ in 0..3 {
        assert_eq!(app.call(Method::POST, path, None, Some(&body)).await.0, StatusCode::CREATED);
    }
    let (status, error) = app.call(Method::POST, path, None, Some(&body)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error["error"]["code"], "rate_limited");
    let (status, _) =
        app.call(Method::POST, "/public/v1/orgs/no-such-org/leads", None, Some(&body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = app
        .call(Method::POST, path, None, Some(&json!({"name": "", "email": "x", "message": ""})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["details"]["errors"].as_array().unwrap().len(), 3);
    let (_, leads) = app.get("/api/v1/leads?status=new").await;
    assert_eq!(leads["data"].as_array().unwrap().len(), 3, "refused submissions stored nothing");
}
