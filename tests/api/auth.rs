//! API keys, plans, scopes and tenant isolation.

use reqwest::{Method, StatusCode};
use serde_json::json;
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(
    keys_are_required_and_checked,
    free_plan_has_no_api_access,
    read_only_keys_cannot_write,
    another_orgs_records_are_not_found,
);

async fn keys_are_required_and_checked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let path = "/api/v1/organization";
    for key in [None, Some("wf_unknown"), Some("")] {
        let (status, body) = app.call(Method::GET, path, key, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let (status, org) = app.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(org["slug"], "window-works");
    assert_eq!(org["name"], "Window Works Inc");
    assert_eq!(org["plan"], "pro");
    assert_eq!(org["currency"], "EUR");
    assert_eq!(org["locale"], "en");
    assert_eq!(org["unitSystem"], "metric");
    assert_eq!(org["features"]["apiAccess"], true);

    let keys = app.store.list_api_keys(&app.seeded.org.id).await.unwrap();
    let read_key = keys.iter().find(|k| k.name == "read").expect("the read key");
    assert!(app.store.revoke_api_key(&app.seeded.org.id, &read_key.id).await.unwrap());
    let (status, body) = app.call(Method::GET, path, Some(&app.seeded.read_key), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"]["message"].as_str().unwrap().contains("revoked"), "{body}");
    // Revoking is tenant-scoped: the rival cannot revoke the demo org's key.
    let rw = keys.iter().find(|k| k.name == "demo").unwrap();
    assert!(!app.store.revoke_api_key(&app.seeded.rival.id, &rw.id).await.unwrap());
    assert_eq!(app.get(path).await.0, StatusCode::OK);
}

async fn free_plan_has_no_api_access(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = Some(app.seeded.free_key.as_str());
    for path in ["/api/v1/organization", "/api/v1/templates"] {
        let (status, body) = app.call(Method::GET, path, key, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body["error"]["code"], "plan_required");
    }
}

async fn read_only_keys_cannot_write(backend: Backend) {
    let app = TestApp::start(backend).await;
    let read = Some(app.seeded.read_key.as_str());
    let (status, _) = app.call(Method::GET, "/api/v1/organization", read, None).await;
    assert_eq!(status, StatusCode::OK);
    let change = json!({"pricingTimeoutMs": 4000});
    let (status, body) = app.call(Method::PATCH, "/api/v1/organization", read, Some(&change)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert_eq!(app.get("/api/v1/organization").await.1["pricingTimeoutMs"], 10000);

    let (status, org) = app.patch("/api/v1/organization", &change).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org["pricingTimeoutMs"], 4000);
    let (status, body) =
        app.patch("/api/v1/organization", &json!({"pricingTimeoutMs": 5, "email": "nope"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<_> = body["error"]["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["email", "pricingTimeoutMs"]);
    assert_eq!(app.get("/api/v1/organization").await.1["pricingTimeoutMs"], 4000);
}

async fn another_orgs_records_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let template = app.template("2-panel-lift-slide").await;
    let id = template["id"].as_str().unwrap();
    let rival = Some(app.seeded.rival_key.as_str());
    let (status, body) =
        app.call(Method::GET, &format!("/api/v1/templates/{id}"), rival, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let price = json!({"configuration": template["defaultConfiguration"]});
    let (status, _) = app
        .call(Method::POST, &format!("/api/v1/templates/{id}/pricing"), rival, Some(&price))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The rival sees only its own catalog, priced in its own currency.
    let (_, list) = app.call(Method::GET, "/api/v1/templates", rival, None).await;
    let ids: Vec<_> = list["data"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&template["id"]));
    let path = "/api/v1/templates/2-panel-lift-slide";
    let (_, own) = app.call(Method::GET, path, rival, None).await;
    let price = json!({"configuration": own["defaultConfiguration"]});
    let (status, priced) =
        app.call(Method::POST, &format!("{path}/pricing"), rival, Some(&price)).await;
    assert_eq!(status, StatusCode::OK, "{priced}");
    assert_eq!(priced["basePricing"]["currency"], "CHF");
}
