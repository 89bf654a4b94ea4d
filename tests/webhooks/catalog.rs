//! The machine-readable event catalog: `GET /api/v1/event-types`, the OpenAPI document's
//! `webhooks` section, and typed test sends — each of the ten types sent signed to a real
//! receiver, its body valid under the catalog's own schema (checked by an independent
//! validator, Python's `jsonschema`).

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::signatures::{standard_signature_valid, winfactor_signature_valid};
use winfactor_tests::{Backend, Receiver, TestApp, backend_tests, json_schema_errors};

backend_tests!(
    the_catalog_lists_every_type_with_a_schema_its_example_meets,
    the_openapi_document_describes_every_webhook,
    a_test_send_of_each_type_is_signed_and_meets_its_schema,
);

const WAIT: Duration = Duration::from_secs(10);

/// The ten event types, in catalog order.
const TYPES: [&str; 10] = [
    "submission.created",
    "quote.created",
    "quote.sent",
    "quote.viewed",
    "quote.accepted",
    "quote.rejected",
    "quote.expiring_soon",
    "quote.expired",
    "lead.created",
    "pricing.calculated",
];

/// `GET /api/v1/event-types` with the read-only key (reading the catalog is a read).
async fn catalog(app: &TestApp) -> Vec<Value> {
    let read = Some(app.seeded.read_key.as_str());
    let (status, body) = app.call(Method::GET, "/api/v1/event-types", read, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("a list").clone()
}

async fn the_catalog_lists_every_type_with_a_schema_its_example_meets(backend: Backend) {
    let app = TestApp::start(backend).await;
    let types = catalog(&app).await;
    let names: Vec<&str> = types.iter().map(|t| t["eventType"].as_str().unwrap()).collect();
    assert_eq!(names, TYPES);
    for entry in &types {
        let name = entry["eventType"].as_str().unwrap();
        assert!(!entry["description"].as_str().unwrap().is_empty(), "{name}");
        let example = &entry["example"];
        assert_eq!((&example["event"], &example["eventType"]), (&json!(name), &json!(name)));
        assert_eq!(example["version"], "1.0");
        assert!(example["timestamp"].as_str().unwrap().ends_with('Z'), "{example}");
        assert_eq!(example["organization"]["slug"], "window-works");
        let errors = json_schema_errors(&entry["schema"], &example["data"]);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        // The schema can fail: blocks turned into text do not meet it.
        let mut broken = example["data"].clone();
        broken.as_object_mut().unwrap().values_mut().for_each(|block| *block = json!("text"));
        assert!(!json_schema_errors(&entry["schema"], &broken).is_empty(), "{name}: {broken}");
    }
    let (status, error) = app.call(Method::GET, "/api/v1/event-types", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert!(error["error"]["code"].is_string());
    let free = Some(app.seeded.free_key.as_str());
    let (status, _) = app.call(Method::GET, "/api/v1/event-types", free, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn the_openapi_document_describes_every_webhook(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (status, document) = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/event-types"]["get"].is_object());
    let webhooks = document["webhooks"].as_object().expect("a webhooks section");
    let names: Vec<&str> = webhooks.keys().map(String::as_str).collect();
    assert_eq!(names.len(), TYPES.len());
    assert!(TYPES.iter().all(|name| names.contains(name)), "{names:?}");
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let resolves = |reference: &Value| {
        let name = reference["$ref"].as_str().unwrap().trim_start_matches("#/components/schemas/");
        assert!(schemas.contains_key(name), "{name} is not in the components");
    };
    let catalog = catalog(&app).await;
    for (name, entry) in TYPES.iter().zip(&catalog) {
        let post = &webhooks[*name]["post"];
        let headers: HashSet<&str> = post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for header in [
            "X-WinFactor-Event",
            "X-WinFactor-Delivery",
            "X-WinFactor-Signature",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        ] {
            assert!(headers.contains(header), "{name}: {header}");
        }
        let body = &post["requestBody"]["content"]["application/json"];
        let parts = body["schema"]["allOf"].as_array().unwrap();
        resolves(&parts[0]);
        resolves(&parts[1]["properties"]["data"]);
        assert_eq!(parts[1]["properties"]["event"]["const"], *name);
        assert_eq!(body["example"], entry["example"], "{name}: one example everywhere");
        assert!(post["responses"]["2XX"].is_object(), "{name}");
    }
}

async fn a_test_send_of_each_type_is_signed_and_meets_its_schema(backend: Backend) {
    let app = TestApp::start(backend).await;
    let receiver = Receiver::start().await;
    let (id, secret) = app.register_webhook(&receiver.url, &["lead.created"], None).await;
    let path = format!("/api/v1/webhooks/{id}/test");
    let catalog = catalog(&app).await;
    let mut event_ids = HashSet::new();
    for (n, entry) in catalog.iter().enumerate() {
        let name = entry["eventType"].as_str().unwrap();
        let (status, result) = app.post(&path, &json!({ "eventType": name })).await;
        assert_eq!(status, StatusCode::OK, "{name}: {result}");
        assert_eq!(result["delivered"], true, "{name}: {result}");
        let request = receiver.wait_for(n + 1, WAIT).await.remove(n);
        let event_id = result["eventId"].as_str().unwrap();
        assert!(event_id.starts_with("evt_") && event_ids.insert(event_id.to_owned()));
        assert_eq!(request.header("x-winfactor-event"), name);
        assert_eq!(request.header("x-winfactor-delivery"), event_id);
        assert_eq!(request.header("webhook-id"), event_id);
        assert!(winfactor_signature_valid(&request, &secret), "{name}");
        assert!(standard_signature_valid(&request, &secret), "{name}");
        let body = request.json();
        assert_eq!((&body["event"], &body["eventType"]), (&json!(name), &json!(name)));
        assert_eq!(body["organization"]["id"], app.seeded.org.id.as_str(), "the real org");
        let errors = json_schema_errors(&entry["schema"], &body["data"]);
        assert!(errors.is_empty(), "{name}: {errors:?}\n{}", body["data"]);
        let url = body["data"]["urls"].as_object().and_then(|urls| urls.values().next());
        if let Some(url) = url {
            assert!(url.as_str().unwrap().starts_with(&app.base), "{name}: {url}");
        }
    }
    assert!(winfactor_tests::signatures::python_standardwebhooks_verifies(
        &receiver.received()[0],
        &secret
    ));

    // No body: today's `webhook.test`.
    let (status, result) = app.call(Method::POST, &path, Some(&app.seeded.key), None).await;
    assert_eq!((status, &result["delivered"]), (StatusCode::OK, &json!(true)), "{result}");
    let request = receiver.wait_for(TYPES.len() + 1, WAIT).await.remove(TYPES.len());
    assert_eq!(request.header("x-winfactor-event"), "webhook.test");
    assert_eq!(request.json()["data"]["webhookId"], id.as_str());

    // An unknown type, a wrong type, an unknown field: 422 in the common shape, nothing sent.
    let (status, error) = app.post(&path, &json!({ "eventType": "quote.teleported" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let found = &error["error"]["details"]["errors"][0];
    assert_eq!(found["path"], "eventType");
    let message = found["message"].as_str().unwrap();
    assert!(TYPES.iter().all(|name| message.contains(name)), "lists the valid ones: {message}");
    for body in [json!({ "eventType": 7 }), json!({ "event": "lead.created" })] {
        let (status, error) = app.post(&path, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed");
    }
    let response = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.seeded.key)
        .body("{\"eventType\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let read = Some(app.seeded.read_key.as_str());
    let body = json!({ "eventType": "quote.sent" });
    let (status, _) = app.call(Method::POST, &path, read, Some(&body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a test send is a write");
    assert_eq!(receiver.received().len(), TYPES.len() + 1, "refusals sent nothing");
}
