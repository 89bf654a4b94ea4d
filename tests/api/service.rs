//! Probes, request ids and the OpenAPI document.

use reqwest::StatusCode;
use winfactor_tests::{Backend, TestApp, backend_tests};

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
    for path in [
        "/api/v1/organization",
        "/api/v1/templates",
        "/api/v1/templates/{id}",
        "/api/v1/templates/{id}/pricing",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    assert!(spec["paths"]["/api/v1/organization"]["patch"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}
