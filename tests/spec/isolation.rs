//! Tenant isolation over every keyed operation the document lists (new routes join by
//! themselves): no key, a revoked key, a Free-plan key and a read-only key on writes are
//! refused (401/403), another organisation's records are 404, and none of it changes a row.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use winfactor::orgs::Scope;
use winfactor_tests::{Backend, TestApp, backend_tests};

use crate::common::{Operation, operations, served_document};
use crate::records::Records;

backend_tests!(every_keyed_operation_keeps_organisations_apart);

/// Writes a read-only key may make: they compute, they store nothing.
const READS_BY_POST: &[&str] = &["POST /api/v1/templates/{id}/pricing"];

/// Operations whose path names no record of an organisation, with why.
const NO_RECORD_IN_PATH: &[(&str, &str)] = &[(
    "PUT /api/v1/templates/{id}",
    "creates or replaces by slug in the key's own catalog: another's slug is a new template",
)];

/// Bodies that get a request past its extractors, so that what answers is the lookup of
/// the record in the path; an operation not listed sends `{}`.
fn body_for(operation: &str, rival: &Records) -> Value {
    match operation {
        "POST /api/v1/templates/{id}/pricing" => json!({ "configuration": rival.configuration }),
        "POST /api/v1/webhooks/{id}/recover" => json!({ "since": 0 }),
        "POST /api/v1/webhooks/{id}/test" => json!({ "eventType": "quote.sent" }),
        "PATCH /api/v1/leads/{id}" => json!({ "status": "contacted" }),
        "PATCH /api/v1/submissions/{id}" => json!({ "externalRef": "crm:deal:1" }),
        "PUT /api/v1/quotes/{id}/line-items" => json!({ "lineItems": [] }),
        "POST /api/v1/quotes/{id}/send" => json!({ "recipients": ["jane@example.com"] }),
        "PATCH /api/v1/pricing-plugins/{id}" => json!({ "settings": {} }),
        "POST /api/v1/pricing-plugins/{id}/dry-run" => {
            json!({ "sessionId": rival.ids["configuration-sessions"] })
        }
        _ => json!({}),
    }
}

const OPERATOR_TOKEN: &str = "wfop_isolation-operator-token";

async fn every_keyed_operation_keeps_organisations_apart(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        // Nothing runs in the background: any row that changes, a request changed.
        config.worker = false;
        config.scheduler = false;
        config.operator_token_sha256 = Some(Sha256::digest(OPERATOR_TOKEN).into());
    })
    .await;
    let rival = Records::create(&app, &app.seeded.rival_key, &app.seeded.rival.slug).await;
    let revoked = app.store.create_api_key(&app.seeded.org.id, "gone", Scope::ReadWrite).await;
    let revoked = revoked.expect("a key");
    assert!(app.store.revoke_api_key(&app.seeded.org.id, &revoked.key.id).await.unwrap());
    let keys = Keys {
        revoked: revoked.secret,
        free: app.seeded.free_key.clone(),
        read: app.seeded.read_key.clone(),
        own: app.seeded.key.clone(),
    };

    let keyed: Vec<Operation> =
        operations(&served_document(&app).await).into_iter().filter(Operation::keyed).collect();
    assert!(keyed.len() > 40, "{} keyed operations", keyed.len());
    let before = settled_snapshot(&app).await;
    assert!(before.len() > 10 && before.values().any(|(rows, _)| *rows > 0), "{before:?}");
    let mut wrong = Vec::new();
    let mut requests = 0;
    for operation in &keyed {
        let name = operation.name();
        let path = rival.fill(&operation.path);
        let body = body_for(&name, &rival);
        for case in cases(operation, &keys) {
            requests += 1;
            let (status, answer) = send(&app, operation, &path, case.key, &body).await;
            let code = answer["error"]["code"].as_str().unwrap_or_default().to_owned();
            if (status, code.as_str()) != (case.status, case.code) {
                wrong.push(format!(
                    "{name} ({}): {status} {code}, expected {} {}",
                    case.what, case.status, case.code
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {requests} requests answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(snapshot(&app).await, before, "refused requests changed the database");
}

struct Keys {
    revoked: String,
    free: String,
    read: String,
    own: String,
}

struct Case<'a> {
    what: &'static str,
    key: Option<&'a str>,
    status: StatusCode,
    code: &'static str,
}

/// What each caller must get from `operation`.
fn cases<'a>(operation: &Operation, keys: &'a Keys) -> Vec<Case<'a>> {
    let case = |what, key: Option<&'a str>, status, code| Case { what, key, status, code };
    let unauthorized = (StatusCode::UNAUTHORIZED, "unauthorized");
    if operation.path.starts_with("/admin/") {
        // The operator API opens with the operator token only: no API key is one.
        return [
            ("no key", None),
            ("revoked key", Some(&keys.revoked)),
            ("Free-plan key", Some(&keys.free)),
            ("read-only key", Some(&keys.read)),
            ("an organisation's key", Some(&keys.own)),
        ]
        .into_iter()
        .map(|(what, key)| case(what, key.map(String::as_str), unauthorized.0, unauthorized.1))
        .collect();
    }
    let name = operation.name();
    let mut cases = vec![
        case("no key", None, unauthorized.0, unauthorized.1),
        case("revoked key", Some(&keys.revoked), unauthorized.0, unauthorized.1),
        case("Free-plan key", Some(&keys.free), StatusCode::FORBIDDEN, "plan_required"),
    ];
    if operation.method != Method::GET && !READS_BY_POST.contains(&name.as_str()) {
        cases.push(case(
            "read-only key",
            Some(&keys.read),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        ));
    }
    let names_a_record = operation.path.contains('{')
        && !NO_RECORD_IN_PATH.iter().any(|(listed, _)| *listed == name);
    if names_a_record {
        cases.push(case(
            "another organisation's record",
            Some(&keys.own),
            StatusCode::NOT_FOUND,
            "not_found",
        ));
    }
    cases
}

async fn send(
    app: &TestApp,
    operation: &Operation,
    path: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = app.client.request(operation.method.clone(), app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if operation.path == "/api/v1/pricing-plugins" && operation.method == Method::POST {
        // Refused before its body is read: a component's first bytes are enough.
        request =
            request.header("content-type", "application/wasm").body(&b"\0asm\x0d\0\x01\0"[..]);
    } else if operation.path == "/api/v1/organization/logo" && operation.method == Method::PUT {
        let logo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/logo.png"));
        request = request.header("content-type", "image/png").body(logo.expect("the logo fixture"));
    } else if operation.spec.get("requestBody").is_some() {
        request = request.json(body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every table's row count and newest `updated_at` (where it has one).
async fn snapshot(app: &TestApp) -> BTreeMap<String, (i64, Option<i64>)> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let url = &app.database.url;
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("the test database");
    let tables = if url.starts_with("sqlite:") {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    } else {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'"
    };
    let tables: Vec<String> =
        sqlx::query_scalar(tables).fetch_all(&mut conn).await.expect("tables");
    let mut found = BTreeMap::new();
    for table in tables {
        let with_updates = format!("SELECT COUNT(*), MAX(updated_at) FROM {table}");
        let row = match sqlx::query(&with_updates).fetch_one(&mut conn).await {
            Ok(row) => (row.get::<i64, _>(0), row.get::<Option<i64>, _>(1)),
            Err(_) => {
                let count = format!("SELECT COUNT(*) FROM {table}");
                (sqlx::query_scalar(&count).fetch_one(&mut conn).await.expect("a count"), None)
            }
        };
        found.insert(table, row);
    }
    let _ = conn.close().await;
    found
}

/// A snapshot once writes that follow setting up (a session's first pricing) are done.
async fn settled_snapshot(app: &TestApp) -> BTreeMap<String, (i64, Option<i64>)> {
    let mut last = snapshot(app).await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = snapshot(app).await;
        if now == last {
            return now;
        }
        last = now;
    }
}
