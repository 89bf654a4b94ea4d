//! Retention: one pass deletes idle unsubmitted sessions (with their history), idempotency
//! keys past their window and finished mails — and keeps submitted sessions, submissions,
//! quotes and anything recent.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use winfactor::jobs::retention::{self, Retention};
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(old_rows_that_are_not_business_history_are_pruned);

/// Runs `sql` on a connection of its own (ageing rows for the test).
async fn execute(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database.url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|err| panic!("{sql}: {err}"));
    let _ = conn.close().await;
}

/// The status of the customer's `GET` of a session.
async fn session(app: &TestApp, id: &str) -> StatusCode {
    let path = format!("/public/v1/configuration-sessions/{id}");
    app.call(Method::GET, &path, None, None).await.0
}

async fn old_rows_that_are_not_business_history_are_pruned(backend: Backend) {
    let app = TestApp::start(backend).await;
    let idle = app.open_session("tilt-turn-window").await;
    let recent = app.open_session("tilt-turn-window").await;
    let submitted = app.open_session("tilt-turn-window").await;
    let customer = json!({"customer": {"name": "Kept Customer", "email": "kept@example.com"}});
    let submission = app.submit_session(&submitted, &customer).await;
    let path = format!("/api/v1/submissions/{}/quotes", submission["id"].as_str().unwrap());
    let (status, quote) = app.post(&path, &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{quote}");
    let send = format!("/api/v1/quotes/{}/send", quote["id"].as_str().unwrap());
    let (status, _) = app.post(&send, &json!({"recipients": ["kept@example.com"]})).await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .client
        .post(app.url("/api/v1/contacts"))
        .bearer_auth(&app.seeded.key)
        .header("idempotency-key", "contact-1")
        .json(&json!({"email": "idem@example.com", "name": "Idem"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());

    // Age everything but the recent session.
    let (old_idle, old_submitted) =
        (idle["id"].as_str().unwrap(), submitted["id"].as_str().unwrap());
    execute(&app, &format!("UPDATE configuration_sessions SET updated_at = 1 WHERE id IN ('{old_idle}', '{old_submitted}')")).await;
    execute(&app, "UPDATE idempotency_keys SET created_at = 1").await;
    execute(&app, "UPDATE mail_outbox SET created_at = 1").await;
    let before = (app.count("session_configurations").await, app.count("mail_outbox").await);
    assert_eq!(before.1, 1);

    let kept = Retention {
        sessions: Duration::from_secs(3600),
        idempotency_keys: Duration::from_secs(86_400),
        mail: Duration::from_secs(3600),
    };
    let pruned = retention::run_once(&app.store, &kept).await.unwrap();
    assert!(pruned.sessions >= 2, "the session and its history: {pruned:?}");
    assert_eq!((pruned.idempotency_keys, pruned.mail), (1, 1), "{pruned:?}");

    assert_eq!(session(&app, old_idle).await, StatusCode::NOT_FOUND, "idle and never submitted");
    assert_eq!(session(&app, old_submitted).await, StatusCode::OK, "submitted sessions stay");
    assert_eq!(session(&app, recent["id"].as_str().unwrap()).await, StatusCode::OK);
    let where_idle = format!("session_configurations WHERE session_id = '{old_idle}'");
    assert_eq!(app.count(&where_idle).await, 0);
    assert!(app.count("session_configurations").await < before.0);
    assert_eq!(app.count("submissions").await, 1);
    assert_eq!(app.count("quotes").await, 1);
    assert_eq!((app.count("idempotency_keys").await, app.count("mail_outbox").await), (0, 0));

    // A second pass finds nothing more.
    let again = retention::run_once(&app.store, &kept).await.unwrap();
    assert_eq!(again, retention::Pruned::default());
}
