//! One error shape for every client mistake; nothing a client sends yields a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(client_mistakes_get_the_common_error_shape);

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["error"].as_object().unwrap().contains_key("details"), "{body}");
}

async fn client_mistakes_get_the_common_error_shape(backend: Backend) {
    let app = TestApp::start(backend).await;
    let pricing = app.url("/api/v1/templates/2-panel-lift-slide/pricing");
    let send = |body: String, content_type: &'static str| {
        app.client
            .post(&pricing)
            .bearer_auth(&app.seeded.key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let parse = |response: reqwest::Response| async move {
        let status = response.status();
        (status, response.json::<Value>().await.expect("a JSON error body"))
    };

    let (status, body) =
        parse(send("{\"configuration\": {".into(), "application/json").await.unwrap()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "malformed_json");

    let (status, body) =
        parse(send("{\"configuration\": 5}".into(), "application/json").await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["error"]["details"]["errors"][0]["path"], "configuration");

    // A body is an object: serde alone would read a struct from an array of its fields.
    for not_an_object in ["[{\"width\": 1000}]", "\"configuration\"", "null"] {
        let (status, body) =
            parse(send(not_an_object.into(), "application/json").await.unwrap()).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["error"]["details"]["errors"][0]["path"], "", "{not_an_object}");
    }

    let (status, body) = parse(send("{}".into(), "application/json").await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let (status, body) = parse(send("{}".into(), "text/plain").await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let huge =
        format!("{{\"configuration\": {{\"padding\": \"{}\"}}}}", "x".repeat(2 * 1024 * 1024));
    // The server answers before reading the whole body and closes that connection: send it
    // on a connection of its own so the shared client's pool stays clean.
    let unpooled = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let response = unpooled
        .post(&pricing)
        .bearer_auth(&app.seeded.key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = parse(response).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let (status, body) = app.get("/api/v1/nothing-here").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) =
        app.call(Method::DELETE, "/api/v1/organization", Some(&app.seeded.key), None).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let (status, body) = app.call(Method::PUT, "/healthz", None, Some(&json!({}))).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    // Nothing above changed anything.
    let (_, org) = app.get("/api/v1/organization").await;
    assert_eq!(org["pricingTimeoutMs"], 10000);
}
