//! Rate limits per API key and per client address, with `Retry-After`, and the client
//! address a trusted proxy forwards (an untrusted one's header is ignored).

use reqwest::{Method, StatusCode};
use serde_json::json;
use winfactor::http::client_ip::TrustedProxies;
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(
    each_api_key_and_each_client_has_its_own_limit,
    a_trusted_proxy_names_the_client_and_an_untrusted_one_does_not,
);

/// `Retry-After` of a 429, in seconds.
async fn refused_for(app: &TestApp, method: Method, path: &str, key: Option<&str>) -> u64 {
    let mut request = app.client.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    let wait = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    wait
}

async fn each_api_key_and_each_client_has_its_own_limit(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.api_rate_per_minute = 3;
        config.public_rate_per_minute = 4;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/templates").await.0, StatusCode::OK);
    }
    let wait = refused_for(&app, Method::GET, "/api/v1/organization", Some(&app.seeded.key)).await;
    assert!((1..=20).contains(&wait), "{wait}");
    let rival = app.seeded.rival_key.clone();
    let (status, _) = app.call(Method::GET, "/api/v1/organization", Some(&rival), None).await;
    assert_eq!(status, StatusCode::OK, "another key has its own allowance");

    for _ in 0..4 {
        let (status, _) =
            app.call(Method::GET, "/public/v1/orgs/window-works/templates", None, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let wait = refused_for(&app, Method::GET, "/configurator/window-works", None).await;
    assert!((1..=15).contains(&wait), "{wait}");
    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.0, StatusCode::OK);
}

async fn lead_from(app: &TestApp, forwarded_for: &str) -> StatusCode {
    let body = json!({"name": "Ada", "email": "ada@example.com", "message": "A window"});
    let response = app
        .client
        .post(app.url("/public/v1/orgs/window-works/leads"))
        .header("x-forwarded-for", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap();
    response.status()
}

async fn a_trusted_proxy_names_the_client_and_an_untrusted_one_does_not(backend: Backend) {
    let trusted = TestApp::start_with(backend, |config| {
        config.lead_rate_per_minute = 2;
        config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    for client in ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"] {
        assert_eq!(lead_from(&trusted, client).await, StatusCode::CREATED, "{client}");
    }
    assert_eq!(lead_from(&trusted, "203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    drop(trusted);

    // Without trusted proxies the header is the client's own word: ignored.
    let untrusted = TestApp::start_with(backend, |config| config.lead_rate_per_minute = 2).await;
    assert_eq!(lead_from(&untrusted, "203.0.113.1").await, StatusCode::CREATED);
    assert_eq!(lead_from(&untrusted, "203.0.113.2").await, StatusCode::CREATED);
    assert_eq!(lead_from(&untrusted, "203.0.113.3").await, StatusCode::TOO_MANY_REQUESTS);
}
