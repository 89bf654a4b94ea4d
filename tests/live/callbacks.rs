//! The callback token against another organisation's key: checked before the token is spent,
//! and answered exactly like a token that does not exist.

use reqwest::StatusCode;
use serde_json::{Value, json};
use winfactor_tests::{Backend, Receiver, backend_tests};

use super::{WAIT, live_app, marked_up, open_session};

backend_tests!(a_foreign_key_neither_spends_nor_probes_a_callback);

async fn a_foreign_key_neither_spends_nor_probes_a_callback(backend: Backend) {
    let app = live_app(backend).await;
    let receiver = Receiver::start().await;
    app.register_webhook(&receiver.url, &["pricing.calculated"], None).await;
    let session = open_session(&app).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    let data = request.json()["data"].clone();
    let url = data["callback"]["url"].as_str().unwrap();
    let unknown = format!("{}/api/v1/configuration-sessions/cbt_unknown/adjustments", app.base);
    let items = marked_up(&request);
    let put = |url: String, key: Option<String>, hash: Value| {
        let mut put = app.client.put(url).json(&json!({"configHash": hash, "lineItems": items}));
        if let Some(key) = key {
            put = put.bearer_auth(key);
        }
        async move {
            let response = put.send().await.expect("the server answers");
            (response.status(), response.text().await.expect("a body"))
        }
    };
    let rival = Some(app.seeded.rival_key.clone());
    let (right, wrong) = (data["configHash"].clone(), json!("sha256:0000"));
    // Whatever the hash, the rival's key finds nothing, and reads the same as for a token
    // that does not exist (nothing of the session, its hash or the token's state).
    let (status, not_found) = put(unknown.clone(), rival.clone(), right.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{not_found}");
    for hash in [&right, &wrong] {
        let (status, body) = put(url.to_owned(), rival.clone(), hash.clone()).await;
        assert_eq!((status, &body), (StatusCode::NOT_FOUND, &not_found), "hash {hash}");
    }
    assert_eq!(app.count("callback_tokens WHERE used_at IS NOT NULL").await, 0);
    assert_eq!(app.count("adjustments").await, 0);

    // The organisation's own answer still applies, with or without its key.
    let (status, receipt) = put(url.to_owned(), Some(app.seeded.key.clone()), right.clone()).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(app.count("adjustments").await, 1);
    let (status, used) = put(url.to_owned(), None, right.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(used.contains("callback_already_used"), "{used}");
    // Spent, it is still nothing to the rival.
    let (status, body) = put(url.to_owned(), rival, right).await;
    assert_eq!((status, &body), (StatusCode::NOT_FOUND, &not_found));
    let id = session["id"].as_str().unwrap();
    let (status, detail) = app.get(&format!("/api/v1/configuration-sessions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["pricing"]["source"], "external");
}
