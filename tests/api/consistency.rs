//! One customer, one `customerLocale`: `submission.created` and every `quote.*` event of the
//! submission's quotes carry the same locale (the customer's `Accept-Language`, else the
//! organisation's). One money representation: the customer's quote JSON gives amounts as
//! numbers, equal to the REST API's.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use winfactor_tests::{Backend, Receiver, TestApp, backend_tests};

backend_tests!(a_customers_events_share_a_locale_and_amounts_are_numbers);

const WAIT: Duration = Duration::from_secs(10);
const KINDS: [&str; 4] = ["submission.created", "quote.created", "quote.sent", "quote.viewed"];

/// Submits the demo door with `accept_language` (if any); returns the submission id.
async fn submit(app: &TestApp, accept_language: Option<&str>) -> String {
    let session = app.open_session("2-panel-lift-slide").await;
    let path =
        format!("/public/v1/configuration-sessions/{}/submit", session["id"].as_str().unwrap());
    let customer = json!({"customer": {"name": "Lena Braun", "email": "lena@example.com"}});
    let mut request = app.client.post(app.url(&path)).json(&customer);
    if let Some(language) = accept_language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let submitted: Value = response.json().await.unwrap();
    submitted["id"].as_str().unwrap().to_owned()
}

async fn a_customers_events_share_a_locale_and_amounts_are_numbers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let events = Receiver::start().await;
    app.register_webhook(&events.url, &KINDS, None).await;
    // A customer who said `de`, and one who said nothing (the organisation's `en`).
    for (round, (language, expected)) in
        [(Some("de-DE,de;q=0.9"), "de"), (None, "en")].into_iter().enumerate()
    {
        let submission = submit(&app, language).await;
        let (status, quote) =
            app.post(&format!("/api/v1/submissions/{submission}/quotes"), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{quote}");
        let id = quote["id"].as_str().unwrap();
        let body = json!({"recipients": ["lena@example.com"]});
        let (status, sent) = app.post(&format!("/api/v1/quotes/{id}/send"), &body).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let received = events.wait_for(KINDS.len() * round + 3, WAIT).await;
        let sent_event = received
            .iter()
            .map(|r| r.json())
            .find(|e| e["eventType"] == "quote.sent" && e["data"]["quote"]["id"] == id)
            .expect("quote.sent");
        let view_url = sent_event["data"]["urls"]["viewQuote"].as_str().unwrap();
        let page = app.client.get(view_url).header("accept", "application/json").send().await;
        let page: Value = page.unwrap().json().await.unwrap();

        // The quote page's amounts: numbers, exactly the API's.
        let (_, api_quote) = app.get(&format!("/api/v1/quotes/{id}")).await;
        assert!(page["total"].is_f64() && page["subtotal"].is_f64(), "{page}");
        assert_eq!(
            (&page["total"], &page["subtotal"]),
            (&api_quote["total"], &api_quote["subtotal"])
        );
        assert_eq!(page["lineItems"], api_quote["lineItems"]);

        let received = events.wait_for(KINDS.len() * (round + 1), WAIT).await;
        let mine: Vec<Value> = received
            .iter()
            .map(|r| r.json())
            .filter(|e| e.to_string().contains(&submission))
            .collect();
        let kinds: Vec<&str> = mine.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
        assert_eq!(kinds.len(), KINDS.len(), "{kinds:?}");
        assert!(KINDS.iter().all(|kind| kinds.contains(kind)), "{kinds:?}");
        for event in &mine {
            assert_eq!(event["customerLocale"], expected, "{}", event["eventType"]);
        }
    }
}
