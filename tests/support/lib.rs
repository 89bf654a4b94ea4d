//! Test support: the real server on `127.0.0.1:0` over a fresh SQLite file or a fresh
//! Postgres database, with the demo organisations seeded and API keys at hand.
//!
//! Postgres runs when `WINFACTOR_TEST_POSTGRES_URL` is set (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own database, dropped
//! afterwards. Set but unreachable is a failure, never a skip.

pub mod bench;
pub mod nginx;
pub mod plugins;
pub mod proxy;
pub mod receiver;
pub mod signatures;
pub mod smtp;
pub mod sse;

pub use nginx::Nginx;
pub use proxy::Proxy;
pub use receiver::{Received, Receiver, Reply};
pub use smtp::{SmtpOptions, SmtpServer};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use winfactor::orgs::{Org, Plan, Scope, UnitSystem};
use winfactor::store::NewOrg;
use winfactor::{Config, Store, demo};

/// Environment variable naming the Postgres admin URL for the Postgres half of each suite.
pub const POSTGRES_ENV: &str = "WINFACTOR_TEST_POSTGRES_URL";

/// Line-item descriptions in Polish, Czech, German, Greek and Russian, for quotes whose
/// documents must print every script exactly.
pub const MULTILINGUAL_LINES: [&str; 5] = [
    "Okno dwuskrzydłowe, szprosy – Łódź, ul. Świętokrzyska",
    "Příčka ze skla, úchyt z nerezové oceli (Brno – Žabovřesky)",
    "Haustür „Größe Übermaß“ mit Schließzylinder",
    "Παράθυρο αλουμινίου με διπλό τζάμι",
    "Балконная дверь, фурнитура «Премиум»",
];

/// Opens a session on the demo's lift-slide door through the public API at `base` (a
/// server, or a balancer in front of several); the session as answered.
pub async fn open_lift_slide_session(client: &reqwest::Client, base: &str) -> Value {
    let path = format!("{base}/public/v1/orgs/window-works/configuration-sessions");
    let body = serde_json::json!({"templateSlug": "2-panel-lift-slide"});
    let response = client.post(path).json(&body).send().await.expect("the server answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("a JSON session")
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the Postgres server of `WINFACTOR_TEST_POSTGRES_URL`.
    Postgres,
}

/// Runs each named `async fn(Backend)` once per backend: `mod name { sqlite, postgres }`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::postgres_admin_url().is_none() {
                    eprintln!("skipped: {} is not set", $crate::POSTGRES_ENV);
                    return;
                }
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}

/// The Postgres admin URL, if the Postgres half of the suites should run.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|url| !url.is_empty())
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// URL to hand to the service.
    pub url: String,
    /// SQLite: the directory holding the file.
    _dir: Option<tempfile::TempDir>,
    /// Postgres: (admin URL, database name) to drop afterwards.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates an empty database on `backend`.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("winfactor.db").display());
                Self { url, _dir: Some(dir), postgres: None }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url().expect("WINFACTOR_TEST_POSTGRES_URL is set");
                let name =
                    format!("wf_test_{}", winfactor::ids::random_alphanumeric(12).to_lowercase());
                let mut conn = admin_connection(&admin).await;
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("CREATE DATABASE");
                let url = with_database(&admin, &name);
                Self { url, _dir: None, postgres: Some((admin, name)) }
            }
        }
    }
}

impl TestDatabase {
    /// Postgres: terminates every connection to this database (as a server restart or a
    /// failover would); returns how many there were.
    pub async fn drop_connections(&self) -> usize {
        let (admin, name) = self.postgres.as_ref().expect("a Postgres test database");
        let mut conn = admin_connection(admin).await;
        let dropped = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .fetch_all(&mut conn)
        .await
        .expect("terminating connections");
        dropped.len()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async context: use a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            runtime.expect("a runtime").block_on(async {
                let mut conn = admin_connection(&admin).await;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
            });
        })
        .join();
    }
}

async fn admin_connection(admin: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(admin).await.unwrap_or_else(|err| {
        panic!("{POSTGRES_ENV} is set but Postgres is unreachable at {admin}: {err}")
    })
}

/// `admin` with its database path replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        url = format!("{url}?{query}");
    }
    url
}

/// The demo data a test works with.
pub struct Seeded {
    /// Window Works Inc (Pro).
    pub org: Org,
    /// Its read-write key.
    pub key: String,
    /// Its read-only key.
    pub read_key: String,
    /// A key of the Free-plan demo org.
    pub free_key: String,
    /// Another Pro org with its own copy of the catalog, for cross-tenant checks.
    pub rival: Org,
    /// The rival's read-write key.
    pub rival_key: String,
}

/// A running server with seeded data.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Direct access to the same database.
    pub store: Store,
    /// The seeded organisations and keys.
    pub seeded: Seeded,
    /// A client for the server.
    pub client: reqwest::Client,
    /// The configuration the server runs with.
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// Precompiled plugin artifacts of this app (kept across [`TestApp::restart`]).
    pub plugin_cache: tempfile::TempDir,
    /// Kept alive for the test's duration; dropped last.
    pub database: TestDatabase,
}

impl TestApp {
    /// Starts the service on a fresh database of `backend` with the demo seeded.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Like [`TestApp::start`], letting the test adjust the configuration first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let database = TestDatabase::create(backend).await;
        let mut config = Config::for_database(&database.url).expect("a valid test configuration");
        config.delivery.allow_private_targets = true;
        // Suites submit many leads from one address; the limiter has its own test.
        config.lead_rate_per_minute = 10_000;
        config.api_rate_per_minute = 1_000_000;
        config.public_rate_per_minute = 1_000_000;
        let store = Store::open(&config.database_url).await.expect("the test database opens");
        let seeded = seed(&store).await;
        let plugin_cache = tempfile::tempdir().expect("a temporary directory");
        config.plugin_cache_dir = plugin_cache.path().to_owned();
        config.plugin_compiler = Some(compile_worker());
        adjust(&mut config);
        let mut app = Self {
            base: String::new(),
            store,
            seeded,
            client: reqwest::Client::new(),
            config,
            shutdown: None,
            server: None,
            plugin_cache,
            database,
        };
        app.serve().await;
        app
    }

    /// Serves on a fresh port with `self.config` and `self.store`.
    async fn serve(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        self.base = format!("http://{}", listener.local_addr().expect("an address"));
        self.config.public_url = self.base.clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let config = self.config.clone();
        self.server = Some(tokio::spawn(winfactor::serve(
            config,
            self.store.clone(),
            listener,
            async move {
                let _ = stopped.await;
            },
        )));
        self.shutdown = Some(shutdown);
    }

    /// Stops the server and starts a new process-equivalent on the same database and
    /// plugin cache (a new port: use [`TestApp::url`] afresh).
    pub async fn restart(mut self) -> Self {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server task").expect("the server stops cleanly");
        }
        self.store = Store::open(&self.config.database_url).await.expect("the database reopens");
        self.serve().await;
        self
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server task").expect("the server stops cleanly");
        }
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with `key` (if any) and a JSON body (if any); returns status and body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// GET with the demo org's read-write key.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(&self.seeded.key), None).await
    }

    /// POST JSON with the demo org's read-write key.
    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&self.seeded.key), Some(body)).await
    }

    /// PATCH JSON with the demo org's read-write key.
    pub async fn patch(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(&self.seeded.key), Some(body)).await
    }

    /// Registers a webhook endpoint for the demo org; returns `(id, secret)`.
    pub async fn register_webhook(
        &self,
        url: &str,
        events: &[&str],
        filters: Option<Value>,
    ) -> (String, String) {
        let mut body = serde_json::json!({ "url": url, "events": events });
        if let Some(filters) = filters {
            body["filters"] = filters;
        }
        let (status, endpoint) = self.post("/api/v1/webhooks", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{endpoint}");
        (
            endpoint["id"].as_str().unwrap().to_owned(),
            endpoint["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Submits the demo org's public lead form; returns the lead id.
    pub async fn submit_lead(&self, name: &str, email: &str, message: &str) -> String {
        let body = serde_json::json!({ "name": name, "email": email, "phone": "+31 6 1234 5678", "message": message });
        let (status, lead) =
            self.call(Method::POST, "/public/v1/orgs/window-works/leads", None, Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{lead}");
        lead["id"].as_str().unwrap().to_owned()
    }

    /// Opens a configuration session of the demo org on a template's default configuration.
    pub async fn open_session(&self, template_slug: &str) -> Value {
        let body = serde_json::json!({ "templateSlug": template_slug, "origin": "org_customize" });
        let path = "/public/v1/orgs/window-works/configuration-sessions";
        let (status, session) = self.call(Method::POST, path, None, Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        session
    }

    /// Submits a session with `body` (`{customer, notes?}`); returns the receipt.
    pub async fn submit_session(&self, session: &Value, body: &Value) -> Value {
        let id = session["id"].as_str().expect("a session id");
        let path = format!("/public/v1/configuration-sessions/{id}/submit");
        let (status, submitted) = self.call(Method::POST, &path, None, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{submitted}");
        submitted
    }

    /// Answers a received `pricing.calculated` by PUTting `line_items` to its callback for
    /// its configHash; returns the status and body.
    pub async fn answer_pricing(
        &self,
        request: &Received,
        line_items: &Value,
    ) -> (StatusCode, Value) {
        let data = &request.json()["data"];
        let url = data["callback"]["url"].as_str().expect("a callback URL");
        let body = serde_json::json!({ "configHash": data["configHash"], "lineItems": line_items });
        let response = self.client.put(url).json(&body).send().await.expect("the server answers");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Polls `GET /api/v1/events/{id}` until `done(event)` holds (panics after `within`).
    pub async fn wait_for_event(
        &self,
        id: &str,
        within: std::time::Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let (status, event) = self.get(&format!("/api/v1/events/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{event}");
            if done(&event) {
                return event;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "event never reached the expected state: {event}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// `SELECT COUNT(*) FROM {from}` (a table, optionally with a `WHERE` clause) over a
    /// connection of its own: a test's proof of what was, or was not, written.
    pub async fn count(&self, from: &str) -> i64 {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn =
            sqlx::AnyConnection::connect(&self.database.url).await.expect("the test database");
        let count = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {from}"))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|err| panic!("counting {from}: {err}"));
        let _ = conn.close().await;
        count
    }

    /// Uploads an organisation logo (`PUT /api/v1/organization/logo`) with the org of `key`;
    /// returns status and body.
    pub async fn upload_logo_as(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .put(self.url("/api/v1/organization/logo"))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The demo template with this slug, as the API returns it.
    pub async fn template(&self, slug: &str) -> Value {
        let (status, template) = self.get(&format!("/api/v1/templates/{slug}")).await;
        assert_eq!(status, StatusCode::OK, "{template}");
        template
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn seed(store: &Store) -> Seeded {
    let key = demo::seed(store).await.expect("demo seeding").expect("a fresh database");
    let org = store.org_by_slug(demo::DEMO_ORG_SLUG).await.unwrap().expect("the demo org");
    let read_key = store.create_api_key(&org.id, "read", Scope::Read).await.unwrap().secret;
    let free = store.org_by_slug(demo::FREE_ORG_SLUG).await.unwrap().expect("the free org");
    let free_key = store.create_api_key(&free.id, "free", Scope::ReadWrite).await.unwrap().secret;
    let rival = store
        .insert_org(&NewOrg {
            slug: "rival-glazing".into(),
            name: "Rival Glazing".into(),
            email: "info@rival.example".into(),
            phone: None,
            logo_url: None,
            locale: "de".into(),
            currency: "CHF".into(),
            unit_system: UnitSystem::Metric,
            plan: Plan::Enterprise,
            pricing_timeout_ms: 10_000,
        })
        .await
        .unwrap();
    for template in demo::catalog() {
        store.insert_template(&rival.id, &template).await.unwrap();
    }
    let rival_key =
        store.create_api_key(&rival.id, "rival", Scope::ReadWrite).await.unwrap().secret;
    Seeded { org, key: key.secret, read_key, free_key, rival, rival_key }
}

/// The plugin compile worker built with the suites (`support/compile_worker.rs`), next to
/// the running test or benchmark binary's directory.
pub fn compile_worker() -> winfactor::plugins::CompilerCommand {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut dir = exe.parent().expect("a directory").to_owned();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let program = dir.join("winfactor-compile-worker");
    assert!(
        program.exists(),
        "{} is missing: it is built with the test package (cargo test -p winfactor-tests)",
        program.display()
    );
    winfactor::plugins::CompilerCommand { program, args: Vec::new() }
}

/// The text of a PDF as the `pypdf` Python package extracts it (an independent parser;
/// panics if it cannot parse the document).
pub fn pdf_text(pdf: &[u8]) -> String {
    let script = "import io, sys, pypdf\nreader = pypdf.PdfReader(io.BytesIO(sys.stdin.buffer.read()))\nprint('\\n'.join(page.extract_text() for page in reader.pages))";
    python_with_stdin(script, pdf)
}

/// One page of a PDF as `pypdf` reads it: its size in points, its extracted text, and each
/// shown text run with where it starts (points from the bottom-left corner).
#[derive(Debug, serde::Deserialize)]
pub struct PdfPage {
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
    /// `extract_text()` of the page.
    pub text: String,
    /// `(x, y, text)` of every text run.
    pub runs: Vec<(f32, f32, String)>,
}

/// The pages of a PDF with their text runs' positions, read by `pypdf`.
pub fn pdf_pages(pdf: &[u8]) -> Vec<PdfPage> {
    const SCRIPT: &str = r#"
import io, json, sys, pypdf
reader = pypdf.PdfReader(io.BytesIO(sys.stdin.buffer.read()))
pages = []
for page in reader.pages:
    runs = []
    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((x, y, text))
    text = page.extract_text(visitor_text=visit)
    box = page.mediabox
    pages.append({"width": float(box.width), "height": float(box.height), "text": text, "runs": runs})
print(json.dumps(pages))
"#;
    let output = python_with_stdin(SCRIPT, pdf);
    serde_json::from_str(&output).expect("the script prints JSON")
}

/// What the `jsonschema` Python package (an independent validator, JSON Schema 2020-12)
/// finds wrong with `instance` under `schema`: one line per error, empty when it is valid.
pub fn json_schema_errors(schema: &Value, instance: &Value) -> Vec<String> {
    const SCRIPT: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
given = json.load(sys.stdin)
for error in Draft202012Validator(given["schema"]).iter_errors(given["instance"]):
    print("/".join(str(p) for p in error.absolute_path) + ": " + error.message)
"#;
    let input = serde_json::json!({ "schema": schema, "instance": instance }).to_string();
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "jsonschema failed (is it installed? tests/run.sh installs it)"
    );
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

/// Runs a Python `script` with `input` on its stdin; its stdout (panics if it fails).
fn python_with_stdin(script: &str, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "pypdf could not parse the PDF (is pypdf installed? tests/run.sh installs it)"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A `lead.created` event carrying `data`, for tests that emit events in their own
/// transaction (`winfactor::outbox::emit`).
pub fn lead_created(data: Value) -> winfactor::outbox::NewEvent {
    winfactor::outbox::NewEvent {
        event_type: winfactor::outbox::EventType::LeadCreated,
        customer_locale: None,
        data,
        expires_at: None,
    }
}
