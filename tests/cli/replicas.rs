//! Two real `winfactor serve` processes on one Postgres database behind a real nginx (the
//! configuration in `docs/deployment.md`), round-robin, no stickiness: the live loop,
//! plugins, caches, delivery and the scheduler across processes, a SIGKILL in the middle of
//! it; and a second server on one SQLite file refused.
//!
//! nginx alternates strictly between the two replicas; every answer names the replica that
//! served it (`X-Upstream`), and the test checks where each step landed rather than assume.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use winfactor_tests::nginx::upstream_of;
use winfactor_tests::plugins::plugin_wasm;
use winfactor_tests::sse::SseClient;
use winfactor_tests::{
    Backend, Nginx, Receiver, TestDatabase, open_lift_slide_session, postgres_admin_url,
};

use super::{BIN, Running, serve_with};

const WAIT: Duration = Duration::from_secs(15);

/// Fast retries and polling, short expiry checks, no rate limit in the way of a burst.
const REPLICA_FLAGS: [&str; 20] = [
    "--allow-private-webhook-targets",
    "true",
    "--trusted-proxies",
    "127.0.0.1",
    "--lead-rate-per-minute",
    "1000000",
    "--public-rate-per-minute",
    "1000000",
    "--api-rate-per-minute",
    "1000000",
    "--webhook-timeout",
    "1s",
    "--webhook-retry-schedule",
    "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
    "--webhook-poll-interval",
    "200ms",
    "--quote-expiry-interval",
    "200ms",
    "--pricing-debounce",
    "20ms",
];

/// The two replicas, nginx in front, and the demo organisation's key.
struct Cluster {
    replicas: Vec<Option<Running>>,
    /// `127.0.0.1:PORT` of each replica, as nginx names them.
    addresses: Vec<String>,
    nginx: Nginx,
    key: String,
    client: reqwest::Client,
    database: TestDatabase,
    _caches: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Self {
        let database = TestDatabase::create(Backend::Postgres).await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let public_url = format!("http://127.0.0.1:{port}");
        let caches = tempfile::tempdir().unwrap();
        let mut replicas = Vec::new();
        let mut key = String::new();
        for name in ["a", "b"] {
            let cache = caches.path().join(name).display().to_string();
            let mut flags = REPLICA_FLAGS.to_vec();
            flags.extend(["--public-url", &public_url, "--plugin-cache-dir", &cache]);
            let (running, output) = serve_with(Path::new(BIN), &database.url, &flags).await;
            if name == "a" {
                let printed = String::from_utf8(output).unwrap();
                key = printed.lines().last().expect("the demo key").trim().to_owned();
            }
            replicas.push(Some(running));
        }
        let addresses: Vec<String> = replicas
            .iter()
            .map(|r| r.as_ref().unwrap().base.trim_start_matches("http://").to_owned())
            .collect();
        let nginx = Nginx::start(port, &addresses).await;
        Self {
            replicas,
            addresses,
            nginx,
            key,
            client: reqwest::Client::new(),
            database,
            _caches: caches,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nginx.url)
    }

    fn other(&self, address: &str) -> String {
        self.addresses.iter().find(|a| *a != address).expect("two replicas").clone()
    }

    /// Sends `request` through nginx to the replica `on`; checks it landed there (after
    /// nginx tried a dead replica first, if one is).
    async fn on(&self, on: &str, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        if self.replicas.iter().all(Option::is_some) {
            self.nginx.next_to(&self.client, on).await;
        }
        let response = request.send().await.expect("nginx answers");
        let upstream = upstream_of(&response);
        assert!(upstream.ends_with(on), "round-robin sent the request to {upstream}, not {on}");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&self.key)
    }

    async fn register(&self, receiver: &Receiver, events: &[&str]) {
        let body = json!({"url": receiver.url, "events": events});
        let response = self.api(reqwest::Method::POST, "/api/v1/webhooks").json(&body).send().await;
        assert_eq!(response.unwrap().status(), StatusCode::CREATED);
    }

    async fn open_session(&self) -> Value {
        open_lift_slide_session(&self.client, &self.nginx.url).await
    }

    /// PUTs `session`'s configuration with `width` through nginx to replica `on`.
    async fn change(&self, on: &str, session: &Value, width: i64) -> Value {
        let mut configuration = session["configuration"].clone();
        configuration["width"] = json!(width);
        let id = session["id"].as_str().unwrap();
        let path = format!("/public/v1/configuration-sessions/{id}/configuration");
        let put = self.client.put(self.url(&path)).json(&json!({ "configuration": configuration }));
        let (status, pricing) = self.on(on, put).await;
        assert_eq!(status, StatusCode::OK, "{pricing}");
        pricing
    }

    /// Answers a received `pricing.calculated` through nginx on replica `on`: base items
    /// plus mounting.
    async fn answer(&self, on: &str, request: &Value) -> (StatusCode, Value) {
        let data = &request["data"];
        let mut items = data["basePricing"]["lineItems"].clone();
        items.as_array_mut().unwrap().push(json!({"description": "Mounting", "quantity": 1,
            "unitPrice": 250.0, "itemType": "labor"}));
        let body = json!({"configHash": data["configHash"], "lineItems": items});
        let url = data["callback"]["url"].as_str().unwrap();
        assert!(url.starts_with(&self.nginx.url), "callbacks are addressed to the balancer");
        self.on(on, self.client.put(url).json(&body)).await
    }

    async fn submit_lead(&self, n: usize) -> StatusCode {
        let path = "/public/v1/orgs/window-works/leads";
        let body =
            json!({"name": "Burst", "email": format!("burst{n}@example.com"), "message": "Hello"});
        match self.client.post(self.url(path)).json(&body).send().await {
            Ok(response) => response.status(),
            Err(_) => StatusCode::BAD_GATEWAY,
        }
    }

    async fn sql(&self, statement: &str) {
        let mut conn =
            <sqlx::PgConnection as sqlx::Connection>::connect(&self.database.url).await.unwrap();
        sqlx::Executor::execute(&mut conn, statement).await.unwrap();
    }
}

/// The `pricing` events of a stream until one satisfies `wanted`.
async fn stream_until(stream: &mut SseClient, wanted: impl Fn(&Value) -> bool) -> Value {
    stream.until(WAIT, |event| wanted(&event.data)).await.data
}

/// How many times each delivery id (`X-WinFactor-Delivery`) arrived.
fn arrivals(receiver: &Receiver) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for received in receiver.received() {
        *seen.entry(received.header("x-winfactor-delivery").to_owned()).or_default() += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_nginx_share_one_postgres_database() {
    if postgres_admin_url().is_none() {
        eprintln!("WINFACTOR_TEST_POSTGRES_URL is not set: replicas need Postgres");
        return;
    }
    let mut cluster = Cluster::start().await;
    let pricing = Receiver::start().await;
    cluster.register(&pricing, &["pricing.calculated"]).await;

    // The stream is held by one replica; the session opened and its answer land anywhere.
    let session = cluster.open_session().await;
    let id = session["id"].as_str().unwrap().to_owned();
    let stream_url = cluster.url(&format!("/public/v1/configuration-sessions/{id}/stream"));
    let mut stream = SseClient::connect(&stream_url, None).await;
    let holder = stream.upstream.clone();
    let other = cluster.other(&holder);
    let first = pricing.wait_for(1, WAIT).await.remove(0).json();
    let (status, _) = cluster.answer(&other, &first).await;
    assert_eq!(status, StatusCode::OK);
    let confirmed = stream_until(&mut stream, |p| p["status"] == "confirmed").await;
    assert_eq!(
        (&confirmed["source"], &confirmed["configHash"]),
        (&json!("external"), &session["configHash"])
    );

    // A change on the other replica, its callback on the stream's: both reach the stream.
    let changed = cluster.change(&other, &session, 3200).await;
    assert_eq!(changed["status"], "pending");
    let pending = stream_until(&mut stream, |p| p["configHash"] == changed["configHash"]).await;
    assert_eq!(pending["status"], "pending");
    let request = pricing.wait_for(2, WAIT).await.remove(1).json();
    assert_eq!(request["data"]["configHash"], changed["configHash"]);
    let (status, _) = cluster.answer(&holder, &request).await;
    assert_eq!(status, StatusCode::OK);
    let settled = stream_until(&mut stream, |p| {
        p["configHash"] == changed["configHash"] && p["status"] != "pending"
    })
    .await;
    assert_eq!((&settled["status"], &settled["source"]), (&json!("confirmed"), &json!("external")));

    // pending ≤ timeoutMs with the two requests out on different replicas: nobody answers.
    let status = Command::new(BIN)
        .args(["orgs", "update", "window-works", "--pricing-timeout-ms", "1500"])
        .args(["--database-url", &cluster.database.url])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the CLI updates the timeout (its cache change is announced)");
    let asked = pricing.received().len();
    let x = cluster.change(&holder, &session, 3300).await;
    let started = Instant::now();
    let y = cluster.change(&other, &session, 3400).await;
    assert_eq!((&x["status"], &y["status"]), (&json!("pending"), &json!("pending")));
    let fallback = stream_until(&mut stream, |p| {
        p["configHash"] == y["configHash"] && p["status"] == "fallback"
    })
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500 + 1000), "pending lasted {took:?} (timeout 1500 ms)");
    assert_eq!(fallback["source"], "base");
    let fired: Vec<Value> = pricing.received()[asked..]
        .iter()
        .map(|r| r.json()["data"]["configHash"].clone())
        .collect();
    assert!(fired.contains(&y["configHash"]), "the newest configuration was asked for: {fired:?}");
    assert!(
        fired.iter().filter(|h| **h == y["configHash"]).count() == 1,
        "one request per configuration across replicas: {fired:?}"
    );

    // A plugin activated through one replica prices the very next change on the other.
    let wasm = plugin_wasm("margin");
    let upload = cluster
        .api(reqwest::Method::POST, "/api/v1/pricing-plugins")
        .query(&[("name", "margin"), ("settings", r#"{"default": 0.25}"#)])
        .header("content-type", "application/wasm")
        .body(wasm);
    let (status, version) = cluster.on(&holder, upload).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{version}");
    let version_id = version["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let path = format!("/api/v1/pricing-plugins/{version_id}");
        let (_, version) = cluster.on(&holder, cluster.api(reqwest::Method::GET, &path)).await;
        if version["status"] == "ready" {
            break;
        }
        assert_ne!(version["status"], "failed", "{version}");
        assert!(Instant::now() < deadline, "the plugin did not compile: {version}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let path = format!("/api/v1/pricing-plugins/{version_id}/activate");
    let (status, _) = cluster.on(&holder, cluster.api(reqwest::Method::POST, &path)).await;
    assert_eq!(status, StatusCode::OK);
    let priced = cluster.change(&other, &session, 3500).await;
    assert_eq!((&priced["status"], &priced["source"]), (&json!("confirmed"), &json!("plugin")));

    // 1,000 events emitted across both replicas reach a receiver exactly once each.
    let leads = Receiver::start().await;
    cluster.register(&leads, &["lead.created"]).await;
    let acknowledged = burst(&cluster, 0..1000).await;
    assert_eq!(acknowledged, 1000);
    leads.wait_for(1000, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // a duplicate would show by now
    let seen = arrivals(&leads);
    assert_eq!(seen.len(), 1000, "every event arrived");
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "no event twice in the normal case: {repeated:?}");

    // The expiry job emits each notice once with both schedulers on.
    let notices = Receiver::start().await;
    cluster.register(&notices, &["quote.expiring_soon", "quote.expired"]).await;
    let quote = sent_quote(&cluster).await;
    let soon = winfactor::clock::now_ms() + 60 * 3_600_000;
    cluster.sql(&format!("UPDATE quotes SET valid_until = {soon} WHERE id = '{quote}'")).await;
    let notice = notices.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(notice["eventType"], "quote.expiring_soon");
    let past = winfactor::clock::now_ms() - 1000;
    cluster.sql(&format!("UPDATE quotes SET valid_until = {past} WHERE id = '{quote}'")).await;
    let expired = notices.wait_for(2, WAIT).await.remove(1).json();
    assert_eq!(expired["eventType"], "quote.expired");
    tokio::time::sleep(Duration::from_secs(1)).await; // five more checks on each replica
    assert_eq!(notices.received().len(), 2, "each notice once");

    // SIGKILL of one replica mid-burst loses nothing acknowledged; the customer's stream
    // reconnects through nginx to the survivor and resumes after its Last-Event-ID; a change
    // left pending on the dead replica still falls back within timeoutMs, on the survivor.
    // (The plugin now fails — its new settings reach both replicas — so the webhook rail
    // prices and nobody answers.)
    let path = format!("/api/v1/pricing-plugins/{version_id}");
    let failing = json!({"settings": {"default": -2}});
    let (status, _) =
        cluster.on(&holder, cluster.api(reqwest::Method::PATCH, &path).json(&failing)).await;
    assert_eq!(status, StatusCode::OK);
    let mut stream = SseClient::connect(&stream_url, None).await;
    let doomed = stream.upstream.clone();
    let survivor = cluster.other(&doomed);
    cluster.nginx.next_to(&cluster.client, &survivor).await;
    let mut watching = SseClient::connect(&stream_url, None).await;
    assert_eq!(watching.upstream, survivor);
    let orphan = cluster.change(&doomed, &session, 3700).await;
    let changed = Instant::now();
    assert_eq!(orphan["status"], "pending", "{orphan}");
    let doomed_index = cluster.addresses.iter().position(|a| *a == doomed).unwrap();
    let before = arrivals(&leads).len();
    let doomed_process = cluster.replicas[doomed_index].take().unwrap();
    let (acknowledged, ()) = tokio::join!(burst(&cluster, 1000..1300), async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        doomed_process.kill();
    });
    let fallback = stream_until(&mut watching, |p| {
        p["configHash"] == orphan["configHash"] && p["status"] != "pending"
    })
    .await;
    assert_eq!(fallback["status"], "fallback");
    let took = changed.elapsed();
    assert!(took < Duration::from_millis(1500 + 1000), "pending lasted {took:?} (timeout 1500 ms)");
    assert!(acknowledged >= 100, "the burst went on through the survivor ({acknowledged})");
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals(&leads).len() < before + acknowledged {
        assert!(Instant::now() < deadline, "acknowledged events were lost");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut last = String::new();
    while let Some(event) = stream.recv().await {
        last = event.id; // until the killed replica's stream ends
    }
    let mut resumed = SseClient::connect(&stream_url, Some(&last)).await;
    assert!(resumed.upstream.ends_with(&survivor), "{}", resumed.upstream);
    let moved = cluster.change(&survivor, &session, 3600).await;
    loop {
        let event = resumed.next(WAIT).await;
        assert!(event.id.parse::<i64>().unwrap() > last.parse::<i64>().unwrap(), "replayed");
        if event.data["configHash"] == moved["configHash"] {
            break;
        }
    }
}

/// Leads `numbers` submitted through nginx, eight at a time; how many were acknowledged.
async fn burst(cluster: &Cluster, numbers: std::ops::Range<usize>) -> usize {
    use futures_util::StreamExt;
    futures_util::stream::iter(numbers)
        .map(|n| cluster.submit_lead(n))
        .buffer_unordered(8)
        .filter(|status| std::future::ready(*status == StatusCode::CREATED))
        .count()
        .await
}

/// A quote sent to its customer (through nginx, wherever each call lands); its id.
async fn sent_quote(cluster: &Cluster) -> String {
    let session = cluster.open_session().await;
    let id = session["id"].as_str().unwrap();
    let path = format!("/public/v1/configuration-sessions/{id}/submit");
    let body = json!({"customer": {"name": "John Smith", "email": "john@example.com"}});
    let submitted = json_of(cluster.client.post(cluster.url(&path)).json(&body)).await;
    let path = format!("/api/v1/submissions/{}/quotes", submitted["id"].as_str().unwrap());
    let quote = json_of(cluster.api(reqwest::Method::POST, &path).json(&json!({}))).await;
    let quote_id = quote["id"].as_str().expect("a quote").to_owned();
    let path = format!("/api/v1/quotes/{quote_id}/send");
    let sent = cluster
        .api(reqwest::Method::POST, &path)
        .json(&json!({"recipients": ["john@example.com"]}));
    assert_eq!(sent.send().await.unwrap().status(), StatusCode::OK);
    quote_id
}

/// The JSON answer to `request`.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("nginx answers").json().await.expect("a JSON answer")
}

/// SQLite serves one process: a second server on the same file stops at once, naming
/// Postgres, and leaves the first one serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_is_refused() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let (first, _) = serve_with(Path::new(BIN), &database.url, &[]).await;
    let second = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &database.url])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("PostgreSQL") && stderr.contains("SQLite"), "{stderr}");
    let health = reqwest::get(format!("{}/healthz", first.base)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    first.terminate();
}
