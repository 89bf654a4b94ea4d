//! What leaves the real binary: quote mails only once their send is committed (30
//! concurrent sends over SMTP, SIGKILL mid-way, restart), and webhooks never through a
//! proxy named in the environment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use winfactor_tests::{
    Backend, Proxy, Receiver, SmtpOptions, SmtpServer, TestDatabase, backend_tests,
};

use super::{BIN, serve_with, serve_with_env};

backend_tests!(
    quote_mails_leave_only_after_the_send_commits_even_across_sigkill,
    deliveries_ignore_proxies_in_the_environment,
);

const SENDS: usize = 30;

/// 30 drafts sent at once to a mail server that holds each answer 400 ms after taking the
/// message; SIGKILL as soon as the first mail is in. Every mail that reached the server
/// names a quote recorded as `sent`, and after a restart every recorded send's mail
/// arrives (its attempt's lease runs out and the worker sends it).
async fn quote_mails_leave_only_after_the_send_commits_even_across_sigkill(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let bin = Path::new(BIN);
    let client = reqwest::Client::new();
    let smtp = SmtpServer::start_with(SmtpOptions {
        delay: Duration::from_millis(400),
        ..SmtpOptions::default()
    });
    let smtp_url = smtp.url();
    let flags = [
        "--smtp-url",
        &smtp_url,
        "--mail-timeout",
        "1s",
        "--mail-retry-schedule",
        "200ms,200ms,200ms",
        "--webhook-poll-interval",
        "100ms",
    ];
    let (first, output) = serve_with(bin, &database.url, &flags).await;
    let key = String::from_utf8(output).unwrap().lines().last().unwrap().trim().to_owned();
    let api = Api { client: client.clone(), base: first.base.clone(), key: key.clone() };
    let mut numbers = BTreeMap::new();
    for n in 0..SENDS {
        let (id, number) = api.draft_quote(&format!("customer{n}@example.com")).await;
        numbers.insert(number, id);
    }

    let sends: Vec<_> = numbers
        .iter()
        .enumerate()
        .map(|(n, (_, id))| {
            let api = api.clone();
            let body = json!({"recipients": [format!("customer{n}@example.com")]});
            let path = format!("/api/v1/quotes/{id}/send");
            tokio::spawn(async move { api.post(&path, &body).await })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.received().is_empty() {
        assert!(Instant::now() < deadline, "no mail arrived");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    for send in sends {
        let _ = send.await;
    }
    // Messages whose data was in before the kill may still be printed: let them land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_restart = smtp.received();

    let (second, _) = serve_with(bin, &database.url, &flags).await;
    let api = Api { base: second.base.clone(), ..api };
    let mut sent = BTreeSet::new();
    for (number, id) in &numbers {
        let (status, quote) = api.get(&format!("/api/v1/quotes/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{quote}");
        if quote["status"] == "sent" {
            sent.insert(number.clone());
        }
    }
    let mailed = |mails: &[winfactor_tests::smtp::Mail]| -> BTreeSet<String> {
        mails.iter().map(|mail| quote_number(mail.header("Subject"))).collect()
    };
    let early = mailed(&before_restart);
    let unsent: Vec<_> = early.difference(&sent).collect();
    assert!(unsent.is_empty(), "mails went out for quotes never recorded as sent: {unsent:?}");
    assert!(!sent.is_empty());

    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let all = mailed(&smtp.received());
        if all == sent {
            break;
        }
        let missing: Vec<_> = sent.difference(&all).collect();
        let extra: Vec<_> = all.difference(&sent).collect();
        assert!(extra.is_empty(), "mails for quotes never recorded as sent: {extra:?}");
        assert!(Instant::now() < deadline, "recorded sends never mailed: {missing:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{backend:?}: {} of {SENDS} sends recorded, {} mailed before the kill, {} after the restart",
        sent.len(),
        early.len(),
        sent.len() - early.len(),
    );
    second.terminate();
}

/// `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (both spellings) point at a real proxy: it
/// receives nothing, while the deliveries reach the receiver directly.
async fn deliveries_ignore_proxies_in_the_environment(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let proxy = Proxy::start().await;
    let receiver = Receiver::start().await;
    let names =
        ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"];
    let mut env: Vec<(&str, &str)> = names.iter().map(|name| (*name, proxy.url.as_str())).collect();
    // Nothing exempt: an inherited `NO_PROXY=127.0.0.1` would hide the proxy's use.
    env.extend([("NO_PROXY", ""), ("no_proxy", "")]);
    let flags = ["--allow-private-webhook-targets", "true"];
    let (running, output) = serve_with_env(Path::new(BIN), &database.url, &flags, &env).await;
    let key = String::from_utf8(output).unwrap().lines().last().unwrap().trim().to_owned();
    let api = Api { client: reqwest::Client::new(), base: running.base.clone(), key };

    let body = json!({"url": receiver.url, "events": ["lead.created"]});
    let (status, webhook) = api.post("/api/v1/webhooks", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let lead = json!({"name": "Env", "email": "env@example.com", "message": "Proxied?"});
    let (status, _) = api.post("/public/v1/orgs/window-works/leads", &lead).await;
    assert_eq!(status, StatusCode::CREATED);
    let test = format!("/api/v1/webhooks/{}/test", webhook["id"].as_str().unwrap());
    let (status, result) = api.post(&test, &json!({})).await;
    assert_eq!((status, result["delivered"].clone()), (StatusCode::OK, json!(true)), "{result}");
    receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(proxy.seen(), Vec::<String>::new(), "nothing goes through the environment's proxy");
    running.terminate();
}

/// `Subject: Your quote Q-2026-0001 from …` → `Q-2026-0001`.
fn quote_number(subject: &str) -> String {
    subject.split_whitespace().find(|word| word.starts_with("Q-")).unwrap_or(subject).to_owned()
}

/// The demo organisation's API on a running binary.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                (status, response.json().await.unwrap_or(Value::Null))
            }
            // The process was killed under this request.
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Value::Null),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// A draft quote on a fresh base-priced submission: `(id, number)`.
    async fn draft_quote(&self, email: &str) -> (String, String) {
        let open = json!({"templateSlug": "tilt-turn-window"});
        let (status, session) =
            self.post("/public/v1/orgs/window-works/configuration-sessions", &open).await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        let submit = json!({"customer": {"name": "Customer", "email": email}});
        let path =
            format!("/public/v1/configuration-sessions/{}/submit", session["id"].as_str().unwrap());
        let (status, submission) = self.post(&path, &submit).await;
        assert_eq!(status, StatusCode::CREATED, "{submission}");
        let path = format!("/api/v1/submissions/{}/quotes", submission["id"].as_str().unwrap());
        let (status, quote) = self.post(&path, &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{quote}");
        (quote["id"].as_str().unwrap().to_owned(), quote["number"].as_str().unwrap().to_owned())
    }
}
