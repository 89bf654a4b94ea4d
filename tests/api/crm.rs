//! The CRM guide's patterns 1 and 2: submission intake with `resolvedConfiguration` and the
//! `externalRef` write-back; idempotent contact upsert and `submissionCount`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(
    submissions_are_resolved_linked_and_reconciled,
    contacts_upsert_idempotently_by_email,
    idempotency_keys_replay_the_first_answer,
);

async fn submit(app: &TestApp, email: &str) -> Value {
    let session = app.open_session("2-panel-lift-slide").await;
    let body = json!({"customer": {"name": "Jane Doe", "email": email, "phone": "+31 6 12"}, "notes": "Patio"});
    app.submit_session(&session, &body).await
}

async fn submissions_are_resolved_linked_and_reconciled(backend: Backend) {
    let app = TestApp::start(backend).await;
    let first = submit(&app, "jane@example.com").await;
    let id = first["id"].as_str().unwrap();
    let (status, submission) = app.get(&format!("/api/v1/submissions/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{submission}");
    assert_eq!(submission["customer"]["name"], "Jane Doe");
    assert_eq!(submission["dimensions"], json!({"width": 2400, "height": 1800}));
    let resolved = &submission["resolvedConfiguration"];
    let door = &resolved["componentSelections"][0];
    assert_eq!(door["componentName"], "Lift-slide door panel");
    assert_eq!(door["componentType"], "door");
    assert_eq!(door["width"], 1185);
    assert_eq!(
        door["selectedOptions"][0],
        json!({"code": "HRPP", "name": "HR++ glass", "optionGroup": "glass"})
    );
    assert_eq!(resolved["insideColor"]["name"], "Anthracite");
    assert_eq!(resolved["outsideColor"]["name"], "White");
    assert_eq!(resolved["selectedOptions"], json!([{"code": "HRPP", "name": "HR++ glass"}]));
    assert_eq!(resolved["notes"], "Patio");
    assert_eq!(submission["externalPricing"], Value::Null, "base-priced: no external pricing");
    assert_eq!(submission["pricing"]["source"], "base");
    assert_eq!(submission["latestQuoteId"], Value::Null);

    let (status, linked) = app
        .patch(
            &format!("/api/v1/submissions/{id}"),
            &json!({"externalRef": "hubspot:deal:9912345"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(linked["externalRef"], "hubspot:deal:9912345");
    let (status, _) =
        app.patch(&format!("/api/v1/submissions/{id}"), &json!({"externalRef": 5})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let rival = Some(app.seeded.rival_key.as_str());
    let (status, _) =
        app.call(Method::GET, &format!("/api/v1/submissions/{id}"), rival, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Reconciliation: createdAfter and stable paging, oldest first.
    let second = submit(&app, "sam@example.com").await;
    let third = submit(&app, "bo@example.com").await;
    let (_, page) = app.get("/api/v1/submissions?limit=2").await;
    let ids: Vec<_> = page["data"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    assert_eq!(ids, [first["id"].clone(), second["id"].clone()]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, rest) = app.get(&format!("/api/v1/submissions?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["data"][0]["id"], third["id"]);
    assert_eq!(rest["nextCursor"], Value::Null);
    let after = page["data"][1]["createdAt"].as_i64().unwrap();
    let (_, later) = app.get(&format!("/api/v1/submissions?createdAfter={after}")).await;
    assert!(
        later["data"].as_array().unwrap().iter().all(|s| s["createdAt"].as_i64().unwrap() > after)
    );
}

async fn contacts_upsert_idempotently_by_email(backend: Backend) {
    let app = TestApp::start(backend).await;
    let body = json!({"email": "jane@example.com", "name": "Jane Doe", "companyName": "Doe BV", "externalRef": "hubspot:contact:3314"});
    let (status, created) = app.post("/api/v1/contacts", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, again) = app.post("/api/v1/contacts", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], created["id"]);
    let shouted = json!({"email": "JANE@EXAMPLE.COM", "name": "Jane Doe"});
    let (_, same) = app.post("/api/v1/contacts", &shouted).await;
    assert_eq!(same["id"], created["id"], "email is case-insensitive");
    assert_eq!(same["companyName"], "Doe BV", "omitted fields are kept");
    let (_, listed) = app.get("/api/v1/contacts?email=jane@example.com").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["submissionCount"], 0);

    submit(&app, "Jane@Example.com").await;
    submit(&app, "jane@example.com").await;
    let id = created["id"].as_str().unwrap();
    let (_, contact) = app.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(contact["submissionCount"], 2);
    assert!(contact["lastUsedAt"].as_i64().unwrap() >= contact["createdAt"].as_i64().unwrap());
    assert_eq!(contact["externalRef"], "hubspot:contact:3314");

    // WinFactor → CRM: a contact created by a submission gets its CRM id patched back.
    submit(&app, "new@example.com").await;
    let (_, found) = app.get("/api/v1/contacts?email=new@example.com").await;
    let new = &found["data"][0];
    assert_eq!(new["externalRef"], Value::Null);
    let (status, patched) = app
        .patch(
            &format!("/api/v1/contacts/{}", new["id"].as_str().unwrap()),
            &json!({"externalRef": "hubspot:contact:77", "phone": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["externalRef"], "hubspot:contact:77");
    assert_eq!(patched["phone"], Value::Null);

    let (status, error) = app.post("/api/v1/contacts", &json!({"email": "nope", "name": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["details"]["errors"].as_array().unwrap().len(), 2);
    let rival = Some(app.seeded.rival_key.as_str());
    let (status, _) = app.call(Method::GET, &format!("/api/v1/contacts/{id}"), rival, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, rival_list) =
        app.call(Method::GET, "/api/v1/contacts?email=jane@example.com", rival, None).await;
    assert!(rival_list["data"].as_array().unwrap().is_empty());
}

async fn idempotency_keys_replay_the_first_answer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let submitted = submit(&app, "idem@example.com").await;
    let path = format!("/api/v1/submissions/{}/quotes", submitted["id"].as_str().unwrap());
    let post = |key: &'static str| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&app.seeded.key)
            .header("idempotency-key", key)
            .json(&json!({}))
            .send()
    };
    let first = post("order-5512").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post("order-5512").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"], "the first answer, replayed");
    let (_, quotes) = app
        .get(&format!("/api/v1/quotes?submissionId={}", submitted["id"].as_str().unwrap()))
        .await;
    assert_eq!(quotes["data"].as_array().unwrap().len(), 1, "the replay created nothing");
    let other: Value = post("order-5513").await.unwrap().json().await.unwrap();
    assert_ne!(other["id"], first["id"]);
    // Keys are per credentials: the read-only key's attempt is its own (and refused).
    let read = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.seeded.read_key)
        .header("idempotency-key", "order-5512")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::FORBIDDEN);
    // Anonymous public forms ignore the header: customers would share keys.
    for _ in 0..2 {
        let lead = json!({"name": "Same Key", "email": "key@example.com", "message": "Hi"});
        let response = app
            .client
            .post(app.url("/public/v1/orgs/window-works/leads"))
            .header("idempotency-key", "1")
            .json(&lead)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert!(response.headers().get("idempotent-replayed").is_none());
    }
    let (_, leads) = app.get("/api/v1/leads").await;
    assert_eq!(leads["data"].as_array().unwrap().len(), 2);
}

mod example {
    //! `examples/crm-sync/sync.py` walks the four patterns against the real server.

    use super::*;

    backend_tests!(the_crm_sync_example_runs_the_four_patterns);

    async fn the_crm_sync_example_runs_the_four_patterns(backend: Backend) {
        let app = TestApp::start(backend).await;
        let first = submit(&app, "one@example.com").await;
        submit(&app, "two@example.com").await;
        app.submit_lead("Lea", "lea@example.com", "Call me back").await;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/crm-sync/sync.py");
        let (base, key) = (app.base.clone(), app.seeded.key.clone());
        let run = move || {
            let output = std::process::Command::new("python3")
                .arg(script)
                .env("WINFACTOR_URL", &base)
                .env("WINFACTOR_KEY", &key)
                .output()
                .expect("python3 runs the example");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            serde_json::from_slice::<Value>(&output.stdout).unwrap()
        };
        let summary = tokio::task::spawn_blocking(run.clone()).await.unwrap();
        assert_eq!(
            summary,
            json!({"organization": "window-works", "currency": "EUR", "unitSystem": "metric",
            "deals": 2, "contacts": 2, "quotes": 2, "leads": 1})
        );
        let (_, submission) =
            app.get(&format!("/api/v1/submissions/{}", first["id"].as_str().unwrap())).await;
        assert_eq!(submission["externalRef"], "examplecrm:deal:1");
        let (_, quote) = app
            .get(&format!("/api/v1/quotes/{}", submission["latestQuoteId"].as_str().unwrap()))
            .await;
        assert_eq!(quote["status"], "sent");
        let (_, contact) = app.get("/api/v1/contacts?email=one@example.com").await;
        assert_eq!(contact["data"][0]["externalRef"], "examplecrm:contact:1");
        // A second run finds everything linked and changes nothing.
        let again = tokio::task::spawn_blocking(run).await.unwrap();
        assert_eq!(
            (again["deals"].clone(), again["quotes"].clone(), again["leads"].clone()),
            (json!(0), json!(0), json!(0))
        );
    }
}
