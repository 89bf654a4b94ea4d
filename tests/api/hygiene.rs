//! Input hygiene and unauthenticated writes: text Postgres cannot store (U+0000) is a 422 on
//! every backend wherever it enters, text of other parties is stored with it replaced, and
//! `Idempotency-Key` records only requests that reached their handler as an organisation.
//! Each test counts rows in the database to prove what was not written.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use winfactor::orgs::Scope;
use winfactor::store::PluginRun;
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests};

backend_tests!(
    a_nul_in_any_json_string_is_a_422_naming_its_path_and_writes_nothing,
    a_nul_in_a_path_or_query_parameter_is_a_422_naming_it,
    a_nul_in_a_header_never_reaches_a_handler,
    a_plugins_nul_is_stored_replaced_in_its_run_log,
    idempotency_records_only_requests_that_reached_their_handler,
);

/// Asserts a 422 `validation_failed` whose errors name exactly `paths`.
fn assert_refused(status: StatusCode, body: &Value, paths: &[&str]) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    let errors = body["error"]["details"]["errors"].as_array().expect("errors");
    let named: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(named, paths, "{body}");
    assert!(errors.iter().all(|e| e["message"].as_str().unwrap().contains("NUL")), "{body}");
}

async fn a_nul_in_any_json_string_is_a_422_naming_its_path_and_writes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = Some(app.seeded.key.as_str());

    let lead = json!({"name": "Mallory\u{0}", "email": "m@example.com", "message": "Hi"});
    let path = "/public/v1/orgs/window-works/leads";
    let (status, body) = app.call(Method::POST, path, None, Some(&lead)).await;
    assert_refused(status, &body, &["name"]);
    assert_eq!(app.count("leads").await, 0);

    let session = json!({"templateSlug": "2-panel-lift-slide", "origin": "web\u{0}"});
    let path = "/public/v1/orgs/window-works/configuration-sessions";
    let (status, body) = app.call(Method::POST, path, None, Some(&session)).await;
    assert_refused(status, &body, &["origin"]);
    assert_eq!(app.count("configuration_sessions").await, 0);

    // Nested: the path says where, as the deserializer's paths do.
    let session = app.open_session("2-panel-lift-slide").await;
    let mut configuration = session["configuration"].clone();
    configuration["components"][0]["selectedOptions"][0]["optionId"] = json!("\u{0}");
    let id = session["id"].as_str().unwrap();
    let path = format!("/public/v1/configuration-sessions/{id}/configuration");
    let body = json!({"configuration": configuration});
    let (status, body) = app.call(Method::PUT, &path, None, Some(&body)).await;
    assert_refused(status, &body, &["configuration.components[0].selectedOptions[0].optionId"]);
    assert_eq!(app.count("session_configurations").await, 1, "only the opening configuration");

    let contact = json!({"email": "c@example.com", "name": "C", "companyName": "\u{0}"});
    let (status, body) = app.call(Method::POST, "/api/v1/contacts", key, Some(&contact)).await;
    assert_refused(status, &body, &["companyName"]);
    assert_eq!(app.count("contacts").await, 0);

    // Keys too, and every offending string at once.
    let webhook = json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"],
        "description": "hook\u{0}", "filters": {"data.lead.id\u{0}": {"exists": true}}});
    let (status, body) = app.call(Method::POST, "/api/v1/webhooks", key, Some(&webhook)).await;
    assert_refused(status, &body, &["description", "filters.data.lead.id\u{FFFD}"]);
    assert_eq!(app.count("webhook_endpoints").await, 0);

    let rename = json!({"name": "Window\u{0}Works"});
    let (status, body) = app.call(Method::PATCH, "/api/v1/organization", key, Some(&rename)).await;
    assert_refused(status, &body, &["name"]);
    assert_eq!(app.get("/api/v1/organization").await.1["name"], "Window Works Inc");

    // An optional body (read before the event is looked up) is checked the same way.
    let redeliver = json!({"endpointId": "\u{0}"});
    let path = "/api/v1/events/evt_none/redeliver";
    let (status, body) = app.call(Method::POST, path, key, Some(&redeliver)).await;
    assert_refused(status, &body, &["endpointId"]);

    // A backslash followed by the letters `u0000` is ordinary text.
    let webhook = json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"],
        "description": "\\u0000"});
    let (status, created) = app.call(Method::POST, "/api/v1/webhooks", key, Some(&webhook)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["description"], "\\u0000");
}

async fn a_nul_in_a_path_or_query_parameter_is_a_422_naming_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = Some(app.seeded.key.as_str());
    for (method, path, key, name) in [
        (Method::GET, "/api/v1/contacts/ct%00", key, "id"),
        (Method::GET, "/public/v1/configuration-sessions/cs_%00", None, "id"),
        (Method::GET, "/public/v1/quotes/%00", None, "viewToken"),
        (Method::GET, "/api/v1/contacts?email=a%00b%40example.com", key, "email"),
        (Method::GET, "/api/v1/events?cursor=%00", key, "cursor"),
    ] {
        let (status, body) = app.call(method, path, key, None).await;
        let errors = &body["error"]["details"]["errors"];
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(errors[0]["path"], name, "{path}: {body}");
    }
    let callback = json!({"configHash": "sha256:00", "lineItems": []});
    let path = "/api/v1/configuration-sessions/cbt_%00/adjustments";
    let (status, _) = app.call(Method::PUT, path, None, Some(&callback)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // `%2500` decodes to the text `%00`, which is storable.
    let (status, _) = app.call(Method::GET, "/api/v1/contacts/ct%2500", key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Headers the service stores (the `User-Agent` of a quote's viewer) cannot carry a NUL:
/// the HTTP parser refuses the request before any handler runs.
async fn a_nul_in_a_header_never_reaches_a_handler(backend: Backend) {
    let app = TestApp::start(backend).await;
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("a connection");
    let request = "POST /public/v1/quotes/qv_none/accept HTTP/1.1\r\nHost: winfactor\r\n\
        User-Agent: agent\0smith\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
        Connection: close\r\n\r\n{}";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// A plugin's log and error are the organisation's code's text: a NUL in them is stored
/// replaced, and the batch with it (other organisations' runs included) is recorded.
async fn a_plugins_nul_is_stored_replaced_in_its_run_log(backend: Backend) {
    let app = TestApp::start(backend).await;
    let run = |id: &str, org: &str, log: &str, error: Option<&str>| {
        let run = PluginRun {
            id: id.into(),
            plugin_id: "plg_hygiene".into(),
            session_id: None,
            context: "dry-run".into(),
            outcome: "plugin_error".into(),
            error: error.map(Into::into),
            origin: Some("warm".into()),
            duration_us: 10,
            peak_memory_bytes: 65_536,
            output_bytes: 0,
            log: vec![log.into()],
            created_at: 1,
        };
        (org.to_owned(), run)
    };
    let (ours, theirs) = (&app.seeded.org.id, &app.seeded.rival.id);
    let runs = [
        run("prun_1", ours, "said \0 this", Some("failed\0")),
        run("prun_2", theirs, "clean", None),
    ];
    app.store.insert_plugin_runs(&runs).await.expect("the batch is recorded");
    let stored = app.store.plugin_runs(ours, "plg_hygiene", 10).await.unwrap();
    assert_eq!(stored[0].log, ["said \u{FFFD} this"]);
    assert_eq!(stored[0].error.as_deref(), Some("failed\u{FFFD}"));
    assert_eq!(app.store.plugin_runs(theirs, "plg_hygiene", 10).await.unwrap().len(), 1);
}

async fn idempotency_records_only_requests_that_reached_their_handler(backend: Backend) {
    let app = TestApp::start_with(backend, |config| config.lead_rate_per_minute = 1).await;
    let org = &app.seeded.org.id;
    let revoked = app.store.create_api_key(org, "revoked", Scope::ReadWrite).await.unwrap();
    app.store.revoke_api_key(org, &revoked.key.id).await.unwrap();
    let post = |path: &str, bearer: &str, idempotency_key: &str, body: Value| {
        app.client
            .post(app.url(path))
            .bearer_auth(bearer)
            .header("idempotency-key", idempotency_key)
            .json(&body)
            .send()
    };
    let contact = json!({"email": "idem@example.com", "name": "Idem"});
    let lead = json!({"name": "Lea", "email": "lea@example.com", "message": "Call me"});
    let seeded = &app.seeded;
    let refused: [(&str, &str, StatusCode); 9] = [
        ("/api/v1/contacts", "wf_junk", StatusCode::UNAUTHORIZED),
        ("/api/v1/contacts", &revoked.secret, StatusCode::UNAUTHORIZED),
        ("/api/v1/contacts", &seeded.free_key, StatusCode::FORBIDDEN),
        ("/api/v1/contacts", &seeded.read_key, StatusCode::FORBIDDEN),
        ("/api/v1/no-such-route", &seeded.key, StatusCode::NOT_FOUND),
        ("/api/v1/organization", &seeded.key, StatusCode::METHOD_NOT_ALLOWED),
        // A public form ignores keys, junk or valid; the second answer is rate-limited.
        ("/public/v1/orgs/window-works/leads", "wf_junk", StatusCode::CREATED),
        ("/public/v1/orgs/window-works/leads", &seeded.key, StatusCode::TOO_MANY_REQUESTS),
        ("/public/v1/orgs/window-works/leads", "wf_junk", StatusCode::TOO_MANY_REQUESTS),
    ];
    for (n, (path, bearer, expected)) in refused.into_iter().enumerate() {
        let body = if path.contains("leads") { lead.clone() } else { contact.clone() };
        let response = post(path, bearer, &format!("attempt-{n}"), body).await.unwrap();
        assert_eq!(response.status(), expected, "{path} with {bearer}");
        assert_eq!(app.count("idempotency_keys").await, 0, "{path} with {bearer} wrote a key");
    }
    assert_eq!(app.count("contacts").await, 0);

    // A request that reached its handler is claimed, answered and replayed.
    let first =
        post("/api/v1/contacts", &seeded.key, "create-idem", contact.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(app.count("idempotency_keys WHERE status = 201").await, 1);
    let first: Value = first.json().await.unwrap();
    let again =
        post("/api/v1/contacts", &seeded.key, "create-idem", contact.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED, "the first answer, not the upsert's 200");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    // The same Idempotency-Key of another organisation is its own operation.
    let rival = post("/api/v1/contacts", &seeded.rival_key, "create-idem", contact).await.unwrap();
    assert!(rival.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.count("idempotency_keys").await, 2);

    // A repeat while the first still runs (a test send waiting for a slow receiver) is 409.
    let slow =
        Receiver::scripted(|_, _| Reply { delay: Duration::from_millis(800), ..Reply::ok() }).await;
    let (endpoint, _) = app.register_webhook(&slow.url, &["lead.created"], None).await;
    let path = format!("/api/v1/webhooks/{endpoint}/test");
    let repeat = async {
        slow.wait_for(1, Duration::from_secs(10)).await;
        post(&path, &seeded.key, "test-once", json!({})).await.unwrap()
    };
    let (first, repeat) = tokio::join!(post(&path, &seeded.key, "test-once", json!({})), repeat);
    assert_eq!(first.unwrap().status(), StatusCode::OK);
    assert_eq!(repeat.status(), StatusCode::CONFLICT);
    assert_eq!(repeat.json::<Value>().await.unwrap()["error"]["code"], "idempotency_in_progress");
    let replayed = post(&path, &seeded.key, "test-once", json!({})).await.unwrap();
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(slow.received().len(), 1, "one test send");
}
