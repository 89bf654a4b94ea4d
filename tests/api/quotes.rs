//! The CRM guide's pattern 3 (quotes out): create with and without line items, numbering,
//! revise after send, the mail outbox and the quote events.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use winfactor_tests::{Backend, Receiver, TestApp, backend_tests};

backend_tests!(
    quotes_are_created_sent_and_revised,
    customers_view_and_decide_quotes_and_quotes_expire
);

const WAIT: Duration = Duration::from_secs(10);

/// Opens a session, lets the receiver's first `pricing.calculated` be answered with a
/// mounting line, submits; returns the submission id.
async fn externally_priced_submission(app: &TestApp, receiver: &Receiver) -> String {
    let session = app.open_session("2-panel-lift-slide").await;
    let request = receiver
        .wait_for(1, WAIT)
        .await
        .into_iter()
        .find(|r| r.header("x-winfactor-event") == "pricing.calculated")
        .unwrap();
    let mut items = request.json()["data"]["basePricing"]["lineItems"].clone();
    items.as_array_mut().unwrap().push(
        json!({"description": "Mounting", "quantity": 1, "unitPrice": 250.0, "sortOffset": 99}),
    );
    assert_eq!(app.answer_pricing(&request, &items).await.0, StatusCode::OK);
    let body = json!({"customer": {"name": "Jane Doe", "email": "jane@example.com"}});
    let submitted = app.submit_session(&session, &body).await;
    assert_eq!(submitted["pricing"]["source"], "external");
    submitted["id"].as_str().unwrap().to_owned()
}

async fn quotes_are_created_sent_and_revised(backend: Backend) {
    let app =
        TestApp::start_with(backend, |config| config.pricing_debounce = Duration::from_millis(20))
            .await;
    let pricing = Receiver::start().await;
    app.register_webhook(&pricing.url, &["pricing.calculated"], None).await;
    let events = Receiver::start().await;
    app.register_webhook(&events.url, &["quote.created", "quote.sent"], None).await;
    let submission = externally_priced_submission(&app, &pricing).await;

    // With the integrator's breakdown: exactly those items, exact totals.
    let body = json!({"lineItems": [
        {"description": "Lift-slide door (SKU WW-451)", "quantity": 2, "unitPrice": 512.0, "itemType": "door"},
        {"description": "Mounting", "quantity": 1, "unitPrice": 250.0, "itemType": "labor"}
    ], "reference": "ERP order 5512"});
    let (status, quote) =
        app.post(&format!("/api/v1/submissions/{submission}/quotes"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{quote}");
    let year = quote["number"].as_str().unwrap()[2..6].parse::<i32>().unwrap();
    assert!(year >= 2026);
    assert_eq!(quote["number"], format!("Q-{year}-0001"));
    assert_eq!((quote["status"].clone(), quote["version"].clone()), (json!("draft"), json!(1)));
    assert_eq!(quote["total"], json!(1274.0));
    assert_eq!(quote["subtotal"], json!(1274.0));
    assert_eq!(
        (quote["currency"].clone(), quote["currencySymbol"].clone()),
        (json!("EUR"), json!("€"))
    );
    assert_eq!(quote["lineItems"].as_array().unwrap().len(), 2);
    assert_eq!(quote["reference"], "ERP order 5512");
    assert_eq!(quote["customer"]["name"], "Jane Doe");
    assert_eq!(quote["pdf"]["status"], "pending");
    let id = quote["id"].as_str().unwrap().to_owned();
    let created = events.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(created["eventType"], "quote.created");
    assert_eq!(created["data"]["quote"]["id"], id.as_str());
    assert_eq!(created["data"]["quote"]["number"], quote["number"]);
    assert_eq!(created["data"]["quote"]["version"], 1);
    assert_eq!(created["data"]["quote"]["total"], json!(1274.0));
    assert_eq!(created["data"]["quote"]["currencySymbol"], "€");
    assert_eq!(created["data"]["customer"]["email"], "jane@example.com");
    assert_eq!(created["data"]["lineItems"], quote["lineItems"]);

    // Without items: the submission's frozen external price, and the next number.
    let (status, calculated) =
        app.post(&format!("/api/v1/submissions/{submission}/quotes"), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(calculated["number"], format!("Q-{year}-0002"));
    let (_, stored) = app.get(&format!("/api/v1/submissions/{submission}")).await;
    assert_eq!(calculated["lineItems"], stored["externalPricing"]["lineItems"]);
    assert_eq!(stored["latestQuoteId"], calculated["id"]);

    // Draft edits replace in place; sending freezes; revising makes version 2.
    let items = json!([{"description": "Door", "quantity": 1, "unitPrice": 0.1}, {"description": "Glass", "quantity": 1, "unitPrice": 0.2}]);
    let (status, edited) = app
        .call(
            Method::PUT,
            &format!("/api/v1/quotes/{id}/line-items"),
            Some(&app.seeded.key),
            Some(&json!({"lineItems": items})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["version"].clone(), edited["total"].clone()), (json!(1), json!(0.3)));
    let (status, sent) = app
        .post(
            &format!("/api/v1/quotes/{id}/send"),
            &json!({"recipients": ["customer@example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["status"], "sent");
    let quote_sent = events.wait_for(3, WAIT).await.remove(2).json();
    assert_eq!(quote_sent["eventType"], "quote.sent");
    let view_url = quote_sent["data"]["urls"]["viewQuote"].as_str().unwrap();
    assert!(view_url.starts_with(&format!("{}/public/v1/quotes/qv_", app.base)), "{view_url}");
    let (_, mails) = app.get("/api/v1/mail-outbox").await;
    assert_eq!(mails[0]["recipients"], json!(["customer@example.com"]));
    assert!(mails[0]["body"].as_str().unwrap().contains(view_url));
    assert_eq!(sent["pdf"]["status"], "ready");
    let pdf_url = sent["pdf"]["url"].as_str().unwrap();
    let pdf = app.client.get(pdf_url).bearer_auth(&app.seeded.key).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = winfactor_tests::pdf_text(&pdf.bytes().await.unwrap());
    assert!(text.contains(quote["number"].as_str().unwrap()), "{text}");
    assert!(
        text.contains("Window Works Inc") && text.contains("Jane Doe") && text.contains("€0.30"),
        "{text}"
    );
    let public_pdf = app.client.get(format!("{view_url}/pdf")).send().await.unwrap();
    assert_eq!(public_pdf.status(), StatusCode::OK);

    let replacement =
        json!({"lineItems": [{"description": "Door", "quantity": 1, "unitPrice": 99.5}]});
    let path = format!("/api/v1/quotes/{id}/line-items");
    let (status, error) =
        app.call(Method::PUT, &path, Some(&app.seeded.key), Some(&replacement)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "quote_sent");
    let mut revise = replacement.clone();
    revise["revise"] = json!(true);
    let (status, revised) =
        app.call(Method::PUT, &path, Some(&app.seeded.key), Some(&revise)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((revised["version"].clone(), revised["status"].clone()), (json!(2), json!("draft")));
    assert_eq!(revised["versions"], json!([1, 2]));
    assert_eq!(revised["pdf"]["status"], "pending", "the new version has no PDF yet");
    let (status, _) = app.get(&format!("/api/v1/quotes/{id}/pdf")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, prepared) = app.post(&format!("/api/v1/quotes/{id}/prepare"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(prepared["pdf"]["status"], "ready");
    let (_, first) = app.get(&format!("/api/v1/quotes/{id}/versions/1")).await;
    assert_eq!(first["subtotal"], json!(0.3), "the sent version stays readable");

    let (status, patched) = app
        .patch(
            &format!("/api/v1/quotes/{id}"),
            &json!({"externalRef": "hubspot:quote:1", "validUntil": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["externalRef"], "hubspot:quote:1");
    assert_eq!(patched["validUntil"], json!(4_070_908_800_000i64));
    let (status, _) =
        app.patch(&format!("/api/v1/quotes/{id}"), &json!({"validUntil": 1000})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, listed) = app.get(&format!("/api/v1/quotes?submissionId={submission}")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    let rival = Some(app.seeded.rival_key.as_str());
    let (status, _) = app.call(Method::GET, &format!("/api/v1/quotes/{id}"), rival, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/submissions/{submission}/quotes"),
            rival,
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Auto-fill asks the organisation again (context autofill) and fills the draft.
    let draft = calculated["id"].as_str().unwrap().to_owned();
    let autofill = {
        let (client, url, key) = (
            app.client.clone(),
            app.url(&format!("/api/v1/quotes/{draft}/autofill")),
            app.seeded.key.clone(),
        );
        tokio::spawn(async move {
            let response = client.post(url).bearer_auth(key).send().await.unwrap();
            (response.status(), response.json::<serde_json::Value>().await.unwrap())
        })
    };
    let deadline = std::time::Instant::now() + WAIT;
    let asked = loop {
        let received = pricing.received();
        if let Some(request) = received.iter().find(|r| r.json()["data"]["context"] == "autofill") {
            break request.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no autofill request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let data = asked.json()["data"].clone();
    assert_eq!(data["submission"]["id"], submission.as_str());
    let fresh = json!([{"description": "Fresh ERP price", "quantity": 1, "unitPrice": 1999.99}]);
    assert_eq!(app.answer_pricing(&asked, &fresh).await.0, StatusCode::OK);
    let (status, filled) = autofill.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{filled}");
    assert_eq!(filled["lineItems"][0]["description"], "Fresh ERP price");
    assert_eq!(filled["total"], json!(1999.99));
}

/// A sent quote (no rail: base-priced submission); returns `(quote id, view URL)`.
async fn sent_quote(app: &TestApp) -> (String, String) {
    let session = app.open_session("tilt-turn-window").await;
    let body = json!({"customer": {"name": "John Smith", "email": "john@example.com", "phone": "+31612345678"}});
    let submitted = app.submit_session(&session, &body).await;
    let (_, quote) = app
        .post(
            &format!("/api/v1/submissions/{}/quotes", submitted["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    let id = quote["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .post(&format!("/api/v1/quotes/{id}/send"), &json!({"recipients": ["john@example.com"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mails) = app.get("/api/v1/mail-outbox").await;
    let body = mails[0]["body"].as_str().unwrap();
    let url = body.split_whitespace().find(|w| w.starts_with("http")).unwrap().to_owned();
    (id, url)
}

async fn customers_view_and_decide_quotes_and_quotes_expire(backend: Backend) {
    let app = TestApp::start(backend).await;
    let events = Receiver::start().await;
    let kinds = [
        "quote.viewed",
        "quote.accepted",
        "quote.rejected",
        "quote.expiring_soon",
        "quote.expired",
    ];
    app.register_webhook(&events.url, &kinds, None).await;
    let (id, url) = sent_quote(&app).await;

    // JSON on request; the first view (only) emits quote.viewed.
    let json_view: serde_json::Value = app
        .client
        .get(&url)
        .header("accept", "application/json")
        .header("user-agent", "Mozilla/5.0 test")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json_view["status"], "sent");
    assert!(json_view["number"].as_str().unwrap().starts_with("Q-"));
    let html = app.client.get(&url).send().await.unwrap();
    assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = html.text().await.unwrap();
    assert!(page.contains(json_view["number"].as_str().unwrap()) && page.contains("Accept quote"));
    let viewed = events.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(viewed["eventType"], "quote.viewed");
    assert_eq!(viewed["data"]["view"]["ipAddress"], "127.0.0.1");
    assert_eq!(viewed["data"]["view"]["userAgent"], "Mozilla/5.0 test");
    assert_eq!(viewed["data"]["quote"]["id"], id.as_str());

    // Accept once; the payload follows the ActivePieces example field by field.
    let accept = app
        .client
        .post(format!("{url}/accept"))
        .header("user-agent", "Mozilla/5.0 test")
        .json(&json!({"name": "John Smith"}))
        .send()
        .await
        .unwrap();
    assert_eq!(accept.status(), StatusCode::OK);
    let accepted = events.wait_for(2, WAIT).await.remove(1).json();
    assert_eq!(accepted["version"], "1.0");
    assert_eq!(accepted["eventType"], "quote.accepted");
    let data = &accepted["data"];
    for field in ["id", "number", "version", "total", "currency", "currencySymbol"] {
        assert!(!data["quote"][field].is_null(), "data.quote.{field}");
    }
    assert_eq!(data["quote"]["currencySymbol"], "€");
    assert_eq!(
        data["customer"],
        json!({"name": "John Smith", "email": "john@example.com", "phone": "+31612345678", "companyName": null})
    );
    assert_eq!(data["acceptance"]["acceptedByName"], "John Smith");
    assert_eq!(data["acceptance"]["ipAddress"], "127.0.0.1");
    assert_eq!(data["acceptance"]["userAgent"], "Mozilla/5.0 test");
    assert!(data["acceptance"]["acceptedAt"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(
        data["urls"]["quoteDetail"].is_string() && data["urls"]["submissionDetail"].is_string()
    );
    let again = app
        .client
        .post(format!("{url}/accept"))
        .json(&json!({"name": "John Smith"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let (_, quote) = app.get(&format!("/api/v1/quotes/{id}")).await;
    assert_eq!(quote["status"], "accepted");

    // Another quote is rejected; a third expires (notice first, then expiry, each once).
    let (_, url) = sent_quote(&app).await;
    let reject = app
        .client
        .post(format!("{url}/reject"))
        .json(&json!({"reason": "Too expensive"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reject.status(), StatusCode::OK);
    let rejected = events.wait_for(3, WAIT).await.remove(2).json();
    assert_eq!(rejected["eventType"], "quote.rejected");
    assert_eq!(rejected["data"]["rejection"]["reason"], "Too expensive");

    let (expiring_id, url) = sent_quote(&app).await;
    let in_two_and_a_half_days = winfactor::clock::now_ms() + 60 * 3_600_000;
    app.store
        .update_quote_fields(
            &app.seeded.org.id,
            &expiring_id,
            None,
            Some(in_two_and_a_half_days),
            None,
        )
        .await
        .unwrap();
    let public_url = app.base.clone();
    let (first, second) = tokio::join!(
        winfactor::jobs::expiry::run_once(&app.store, &public_url),
        winfactor::jobs::expiry::run_once(&app.store, &public_url)
    );
    assert_eq!(first.unwrap().0 + second.unwrap().0, 1, "two concurrent passes emit one notice");
    assert_eq!(winfactor::jobs::expiry::run_once(&app.store, &public_url).await.unwrap(), (0, 0));
    let notice = events.wait_for(4, WAIT).await.remove(3).json();
    assert_eq!(notice["eventType"], "quote.expiring_soon");
    assert_eq!(
        notice["data"]["expiry"],
        json!({"validUntil": in_two_and_a_half_days, "daysRemaining": 3})
    );

    let past = winfactor::clock::now_ms() - 1000;
    app.store
        .update_quote_fields(&app.seeded.org.id, &expiring_id, None, Some(past), None)
        .await
        .unwrap();
    assert_eq!(winfactor::jobs::expiry::run_once(&app.store, &public_url).await.unwrap(), (0, 1));
    assert_eq!(winfactor::jobs::expiry::run_once(&app.store, &public_url).await.unwrap(), (0, 0));
    let expired = events.wait_for(5, WAIT).await.remove(4).json();
    assert_eq!(expired["eventType"], "quote.expired");
    assert_eq!(expired["data"]["expiry"]["validUntil"], json!(past));
    let late = app
        .client
        .post(format!("{url}/accept"))
        .json(&json!({"name": "Late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT, "an expired quote cannot be accepted");
    let (status, _) = app.call(Method::GET, "/public/v1/quotes/qv_unknown", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

mod smtp {
    //! Sending through a real SMTP server (Python's aiosmtpd): the PDF attached, the mail
    //! only after the send is recorded, retried until the server takes it.

    use winfactor::urls::SecretUrl;
    use winfactor_tests::{SmtpOptions, SmtpServer};

    use super::*;

    backend_tests!(
        sent_quotes_reach_a_real_smtp_server_with_the_pdf,
        mails_the_server_did_not_take_are_retried_failed_or_cancelled,
    );

    /// A server answering at once; the first quote mail has everything in it, and a server
    /// that is down fails the send before anything changes.
    async fn sent_quotes_reach_a_real_smtp_server_with_the_pdf(backend: Backend) {
        let mut server = SmtpServer::start();
        let app = TestApp::start_with(backend, |config| {
            config.smtp_url = Some(SecretUrl::new(&server.url()));
            config.mail_from = "Window Works <quotes@window-works.example>".into();
        })
        .await;
        let (id, _) = sent_quote(&app).await;
        let (_, quote) = app.get(&format!("/api/v1/quotes/{id}")).await;
        let number = quote["number"].as_str().unwrap().to_owned();
        let mail = server.wait_for(1, WAIT).await.remove(0);
        assert_eq!(mail.header("Subject"), format!("Your quote {number} from Window Works Inc"));
        assert_eq!(mail.to, ["john@example.com"]);
        assert!(mail.header("From").contains("<quotes@window-works.example>"), "{}", mail.data);
        assert!(mail.text().contains("/public/v1/quotes/qv_"), "the link: {}", mail.data);
        assert!(mail.data.contains("Content-Type: application/pdf"), "the PDF is attached");
        assert!(mail.data.contains(&format!("{number}.pdf")));
        // The request made the first attempt: the mail was out when the answer came.
        let (_, mails) = app.get("/api/v1/mail-outbox").await;
        let listed = &mails[0];
        assert_eq!(
            (listed["status"].clone(), listed["attempts"].clone()),
            (json!("sent"), json!(1))
        );
        let message_id = mail.header("Message-ID");
        let expected = format!("<{}@window-works.example>", listed["id"].as_str().unwrap());
        assert_eq!(message_id, expected, "retries are recognisable by their Message-ID");

        // A mail server that is down leaves the quote unsent.
        server.stop();
        let draft_id = draft_quote(&app, "ann@example.com").await;
        let (status, error) = app
            .post(
                &format!("/api/v1/quotes/{draft_id}/send"),
                &json!({"recipients": ["ann@example.com"]}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
        assert_eq!(error["error"]["code"], "mail_delivery_failed");
        let (_, unchanged) = app.get(&format!("/api/v1/quotes/{draft_id}")).await;
        assert_eq!(unchanged["status"], "draft");
        let (_, mails) = app.get("/api/v1/mail-outbox").await;
        assert_eq!(mails.as_array().unwrap().len(), 1, "nothing was queued: {mails}");
    }

    /// The send is recorded and answered even when the server does not take the mail: a
    /// mail whose quote was revised before its retry never leaves, a temporary refusal is
    /// retried until it goes, and a refusal for good fails the mail.
    async fn mails_the_server_did_not_take_are_retried_failed_or_cancelled(backend: Backend) {
        let options = SmtpOptions {
            fail_first: 2,
            refuse: vec!["nobody@example.com".into()],
            ..SmtpOptions::default()
        };
        let server = SmtpServer::start_with(options);
        let app = TestApp::start_with(backend, |config| {
            config.smtp_url = Some(SecretUrl::new(&server.url()));
            config.mail_retry_schedule =
                winfactor::outbox::RetrySchedule(vec![Duration::from_secs(1); 2]);
            config.delivery.poll_interval = Duration::from_millis(50);
        })
        .await;

        // 451, then revised before the retry (due in a second): cancelled, never sent.
        let revised = draft_quote(&app, "ann@example.com").await;
        let (status, sent) = send(&app, &revised, "ann@example.com").await;
        assert_eq!((status, sent["status"].clone()), (StatusCode::OK, json!("sent")), "{sent}");
        let (_, mails) = app.get("/api/v1/mail-outbox").await;
        assert_eq!(mails[0]["status"], "pending", "{mails}");
        assert!(mails[0]["lastError"].as_str().unwrap().contains("451"), "{mails}");
        let revise = json!({"revise": true, "lineItems": [{"description": "Door", "quantity": 1, "unitPrice": 10.0}]});
        let path = format!("/api/v1/quotes/{revised}/line-items");
        let (status, _) = app.call(Method::PUT, &path, Some(&app.seeded.key), Some(&revise)).await;
        assert_eq!(status, StatusCode::OK);
        let listed = wait_for_mail(&app, 0, |m| m["status"] != "pending").await;
        assert_eq!(listed["status"], "cancelled", "{listed}");

        // 451, then the retry goes through.
        let retried = draft_quote(&app, "bob@example.com").await;
        assert_eq!(send(&app, &retried, "bob@example.com").await.0, StatusCode::OK);
        let mail = server.wait_for(1, WAIT).await.remove(0);
        assert_eq!(mail.to, ["bob@example.com"]);
        let listed = wait_for_mail(&app, 0, |m| m["status"] == "sent").await;
        assert_eq!(listed["attempts"], 2);

        // 550 for the recipient fails the mail at once; the quote stays sent.
        let refused = draft_quote(&app, "nobody@example.com").await;
        let (status, sent) = send(&app, &refused, "nobody@example.com").await;
        assert_eq!((status, sent["status"].clone()), (StatusCode::OK, json!("sent")), "{sent}");
        let (_, mails) = app.get("/api/v1/mail-outbox").await;
        assert_eq!(mails[0]["status"], "failed", "{mails}");
        assert!(mails[0]["lastError"].as_str().unwrap().contains("550"), "{mails}");
        let mails = server.received();
        assert_eq!(mails.len(), 1, "only the retried mail ever arrived: {mails:?}");
    }

    /// A draft quote for a fresh base-priced submission; returns its id.
    async fn draft_quote(app: &TestApp, email: &str) -> String {
        let session = app.open_session("tilt-turn-window").await;
        let body = json!({"customer": {"name": "Ann", "email": email}});
        let submitted = app.submit_session(&session, &body).await;
        let path = format!("/api/v1/submissions/{}/quotes", submitted["id"].as_str().unwrap());
        let (status, draft) = app.post(&path, &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{draft}");
        draft["id"].as_str().unwrap().to_owned()
    }

    async fn send(app: &TestApp, id: &str, to: &str) -> (StatusCode, serde_json::Value) {
        app.post(&format!("/api/v1/quotes/{id}/send"), &json!({"recipients": [to]})).await
    }

    /// Polls the mail outbox until its `index`th newest mail satisfies `done`.
    async fn wait_for_mail(
        app: &TestApp,
        index: usize,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let (_, mails) = app.get("/api/v1/mail-outbox").await;
            if done(&mails[index]) {
                return mails[index].clone();
            }
            assert!(std::time::Instant::now() < deadline, "never reached: {mails}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
