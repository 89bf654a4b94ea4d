//! `webhook_proxy_url`: deliveries go through the configured proxy, and the SSRF guard
//! still checks every target (names resolved here) before anything reaches the proxy.

use std::time::Duration;

use winfactor::outbox::{NewEndpoint, WebhookEndpoints};
use winfactor::urls::SecretUrl;
use winfactor_tests::{Backend, Proxy, Receiver, TestApp, backend_tests};

backend_tests!(
    deliveries_go_through_the_configured_proxy,
    the_guard_checks_targets_before_the_proxy,
);

const WAIT: Duration = Duration::from_secs(10);

async fn deliveries_go_through_the_configured_proxy(backend: Backend) {
    let proxy = Proxy::start().await;
    let url = proxy.url.clone();
    let app =
        TestApp::start_with(backend, |config| config.delivery.proxy = Some(SecretUrl::new(&url)))
            .await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["lead.created"], None).await;
    app.submit_lead("Pat", "pat@example.com", "Through the proxy").await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(request.header("x-winfactor-event"), "lead.created");
    let seen = proxy.seen();
    assert!(
        seen.iter().any(|line| line.starts_with(&format!("POST {}", receiver.url))),
        "{seen:?}"
    );
}

/// Endpoints stored pointing inside (as after a DNS change) — by name and by literal — are
/// refused before the proxy is asked: it would resolve `localhost` itself.
async fn the_guard_checks_targets_before_the_proxy(backend: Backend) {
    let proxy = Proxy::start().await;
    let url = proxy.url.clone();
    let app = TestApp::start_with(backend, |config| {
        config.delivery.allow_private_targets = false;
        config.delivery.proxy = Some(SecretUrl::new(&url));
    })
    .await;
    let receiver = Receiver::start().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    for target in [by_name.as_str(), receiver.url.as_str()] {
        let endpoint = NewEndpoint {
            url: target.to_owned(),
            description: None,
            events: vec!["lead.created".into()],
            filters: None,
            enabled: true,
            secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0".into(),
        };
        app.store.insert_endpoint(&app.seeded.org.id, &endpoint).await.unwrap();
    }
    app.submit_lead("Sam", "sam@example.com", "Internal target").await;
    let (_, events) = app.get("/api/v1/events").await;
    let id = events["data"][0]["id"].as_str().unwrap().to_owned();
    let event = app
        .wait_for_event(&id, WAIT, |e| {
            e["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["attemptsLog"].as_array().is_some_and(|log| !log.is_empty()))
        })
        .await;
    for delivery in event["deliveries"].as_array().unwrap() {
        let error = delivery["attemptsLog"][0]["error"].as_str().unwrap();
        assert!(error.contains("refused") && error.contains("not a public address"), "{error}");
    }
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
    assert!(receiver.received().is_empty());
}
