//! Probes, request ids and the OpenAPI document.

use std::time::Duration;

use reqwest::StatusCode;
use winfactor_tests::{Backend, TestApp, backend_tests, postgres_admin_url};

backend_tests!(probes_request_ids_and_openapi);

async fn probes_request_ids_and_openapi(backend: Backend) {
    let app = TestApp::start(backend).await;
    for probe in ["/healthz", "/readyz"] {
        let response = app.client.get(app.url(probe)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{probe}");
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert!(id.starts_with("req_"), "{id}");
    }
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42");

    let yaml = app.client.get(app.url("/openapi.yaml")).send().await.unwrap().text().await.unwrap();
    assert!(yaml.starts_with("openapi: 3"), "{}", &yaml[..80.min(yaml.len())]);
    let spec: serde_json::Value =
        app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    // Every route of the service is described (the document is generated from the handlers).
    for path in [
        "/api/v1/organization",
        "/api/v1/templates",
        "/api/v1/templates/{id}",
        "/api/v1/templates/{id}/pricing",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/rotate-secret",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/{id}/recover",
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/events/{id}/redeliver",
        "/api/v1/leads",
        "/api/v1/leads/{id}",
        "/api/v1/configuration-sessions/{token}/adjustments",
        "/api/v1/configuration-sessions/{id}",
        "/api/v1/submissions",
        "/api/v1/submissions/{id}",
        "/api/v1/submissions/{id}/quotes",
        "/api/v1/contacts",
        "/api/v1/contacts/{id}",
        "/api/v1/quotes",
        "/api/v1/quotes/{id}",
        "/api/v1/quotes/{id}/versions/{version}",
        "/api/v1/quotes/{id}/line-items",
        "/api/v1/quotes/{id}/send",
        "/api/v1/quotes/{id}/prepare",
        "/api/v1/quotes/{id}/autofill",
        "/api/v1/quotes/{id}/pdf",
        "/api/v1/mail-outbox",
        "/public/v1/orgs/{orgSlug}/leads",
        "/public/v1/orgs/{orgSlug}/configuration-sessions",
        "/public/v1/configuration-sessions/{id}",
        "/public/v1/configuration-sessions/{id}/configuration",
        "/public/v1/configuration-sessions/{id}/stream",
        "/public/v1/configuration-sessions/{id}/submit",
        "/public/v1/quotes/{viewToken}",
        "/public/v1/quotes/{viewToken}/accept",
        "/public/v1/quotes/{viewToken}/reject",
        "/public/v1/quotes/{viewToken}/pdf",
        "/public/v1/orgs/{orgSlug}/templates",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    assert!(spec["paths"]["/api/v1/organization"]["patch"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());

    // The configurator page and the catalog it reads are public; pricing rules are not.
    let page = app.client.get(app.url("/configurator/window-works")).send().await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Window Works Inc")
            && page.contains("new EventSource")
            && page.contains("data-currency=\"EUR\"")
    );
    let catalog: serde_json::Value = app
        .client
        .get(app.url("/public/v1/orgs/window-works/templates"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog.as_array().unwrap().len(), 3);
    assert!(catalog[0].get("pricingRules").is_none());
    let missing = app.client.get(app.url("/configurator/nobody")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let index = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("/configurator/window-works"));
    app.stop().await;
}

/// Postgres: when the database drops the service's connections (a restart, a failover),
/// requests do not get the dead ones: the pool pings a connection that sat idle before
/// handing it out, and replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_postgres_connections_are_replaced() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: {} is not set", winfactor_tests::POSTGRES_ENV);
        return;
    }
    let app = TestApp::start(Backend::Postgres).await;
    assert_eq!(app.get("/api/v1/contacts").await.0, StatusCode::OK);
    assert!(app.database.drop_connections().await > 0);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for _ in 0..20 {
        let (status, body) = app.get("/api/v1/contacts").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
