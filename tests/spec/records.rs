//! One record of each kind a path can name, made through the API for one organisation:
//! the isolation test points another organisation's key at them, the fuzzer starts from them.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::plugins::plugin_wasm;
use winfactor_tests::{Receiver, TestApp};

/// The records and the receiver their webhook endpoint delivers to.
pub struct Records {
    /// Resource (the path segment before the id) → a record's id; `orgs` → the slug.
    pub ids: BTreeMap<&'static str, String>,
    /// The `viewToken` of the sent quote.
    pub view_token: String,
    /// A valid configuration of the template.
    pub configuration: Value,
    _receiver: Receiver,
}

impl Records {
    /// Makes the records as the organisation `slug` whose read-write key is `key`: a
    /// webhook endpoint, an open session, a submitted one with its submission, contact and
    /// sent quote, a lead, a compiled plugin, and the event the submission emitted.
    pub async fn create(app: &TestApp, key: &str, slug: &str) -> Self {
        let call = |method: Method, path: String, body: Option<Value>| async move {
            let (status, answer) = app.call(method, &path, Some(key), body.as_ref()).await;
            assert!(status.is_success(), "{path}: {status} {answer}");
            answer
        };
        let mut ids = BTreeMap::new();
        ids.insert("orgs", slug.to_owned());
        let templates = call(Method::GET, "/api/v1/templates".into(), None).await;
        ids.insert("templates", id_of(&templates["data"][0]));

        let receiver = Receiver::start().await;
        let hook = json!({ "url": receiver.url, "events": ["submission.created", "quote.sent"] });
        let hook = call(Method::POST, "/api/v1/webhooks".into(), Some(hook)).await;
        ids.insert("webhooks", id_of(&hook));

        let open = json!({ "templateId": ids["templates"], "origin": "spec-tests" });
        let sessions = format!("/public/v1/orgs/{slug}/configuration-sessions");
        let mut opened = Vec::new();
        for _ in 0..2 {
            let (status, session) = app.call(Method::POST, &sessions, None, Some(&open)).await;
            assert_eq!(status, StatusCode::CREATED, "{session}");
            opened.push(session);
        }
        let customer = json!({ "customer": { "name": "Rita Roe", "email": "rita@example.com" } });
        let submission = app.submit_session(&opened[0], &customer).await;
        ids.insert("configuration-sessions", id_of(&opened[1]));
        ids.insert("submissions", id_of(&submission));
        let quote = format!("/api/v1/submissions/{}/quotes", ids["submissions"]);
        let quote = call(Method::POST, quote, Some(json!({}))).await;
        ids.insert("quotes", id_of(&quote));
        let send = json!({ "recipients": ["rita@example.com"] });
        call(Method::POST, format!("/api/v1/quotes/{}/send", ids["quotes"]), Some(send)).await;
        let mails = call(Method::GET, "/api/v1/mail-outbox".into(), None).await;
        let link = mails[0]["body"].as_str().expect("a mail body");
        let view_token = link
            .split("/public/v1/quotes/")
            .nth(1)
            .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_'))
            .expect("the customer's link in the mail")
            .collect();
        let contacts = call(Method::GET, "/api/v1/contacts".into(), None).await;
        ids.insert("contacts", id_of(&contacts["data"][0]));
        let events = call(Method::GET, "/api/v1/events".into(), None).await;
        ids.insert("events", id_of(&events["data"][0]));

        let lead = json!({ "name": "Rolf", "email": "rolf@example.com", "message": "A door" });
        let (status, lead) = app
            .call(Method::POST, &format!("/public/v1/orgs/{slug}/leads"), None, Some(&lead))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{lead}");
        ids.insert("leads", id_of(&lead));

        let (status, plugin) =
            app.upload_plugin_as(key, "margin", &plugin_wasm("margin"), &json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{plugin}");
        let plugin = app.compiled_plugin_as(key, &id_of(&plugin)).await;
        ids.insert("pricing-plugins", id_of(&plugin));
        let configuration = opened[1]["configuration"].clone();
        Self { ids, view_token, configuration, _receiver: receiver }
    }

    /// `path` with each parameter set to the record of the resource it follows (a quote
    /// version: 1).
    pub fn fill(&self, path: &str) -> String {
        let mut filled = String::new();
        let mut previous = "";
        for segment in path.split('/').skip(1) {
            filled.push('/');
            if segment == "{version}" {
                filled.push('1');
            } else if segment.starts_with('{') {
                let id = self.ids.get(previous).unwrap_or_else(|| {
                    panic!("{path}: no `{previous}` record: add one to Records::create")
                });
                filled.push_str(id);
            } else {
                filled.push_str(segment);
            }
            previous = segment;
        }
        filled
    }
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap_or_else(|| panic!("no id in {record}")).to_owned()
}
