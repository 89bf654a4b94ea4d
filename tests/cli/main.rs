//! The `winfactor` binary itself: `serve --demo`, `keys create`, SIGTERM, restarts, a
//! SIGKILL in the middle of webhook delivery, what leaves the process (quote mails across a
//! SIGKILL, proxies in the environment: see [`egress`]), `plugin check|run` (see
//! [`plugins`]), and two replicas on one Postgres database behind nginx (see [`replicas`]).
//!
//! This target belongs to the `winfactor` package (see `host/Cargo.toml`) so cargo builds
//! the binary for it and hands over its path in `CARGO_BIN_EXE_winfactor`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use winfactor_tests::{Backend, Receiver, Reply, TestDatabase, backend_tests};

mod egress;
mod onboarding;
mod plugins;
mod replicas;

const BIN: &str = env!("CARGO_BIN_EXE_winfactor");

backend_tests!(
    cli_serves_the_demo_and_restarts_without_reseeding,
    deliveries_survive_sigkill_and_reach_the_receiver_after_restart,
);

/// Settings that make the crash test quick: short timeout (so the lease of the killed
/// process runs out in seconds), many quick retries, and room for many leads.
const FAST_DELIVERY: [&str; 8] = [
    "--lead-rate-per-minute",
    "1000",
    "--webhook-timeout",
    "500ms",
    "--webhook-retry-schedule",
    "100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms",
    "--allow-private-webhook-targets",
    "true",
];

/// Leads are accepted (acknowledged with 201) while the receiver fails, the process is
/// SIGKILLed, the receiver recovers, the process restarts: every acknowledged event
/// reaches the receiver at least once.
async fn deliveries_survive_sigkill_and_reach_the_receiver_after_restart(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let bin = Path::new(BIN);
    let client = reqwest::Client::new();
    let receiver = Receiver::scripted(|_, _| Reply::status(503)).await;

    let (first, output) = serve_with(bin, &database.url, &FAST_DELIVERY).await;
    let key = String::from_utf8(output).unwrap().lines().last().unwrap().trim().to_owned();
    let webhook = client
        .post(format!("{}/api/v1/webhooks", first.base))
        .bearer_auth(&key)
        .json(&json!({"url": receiver.url, "events": ["lead.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), StatusCode::CREATED);
    let mut acknowledged = 0;
    for n in 0..15 {
        let lead = client
            .post(format!("{}/public/v1/orgs/window-works/leads", first.base))
            .json(&json!({"name": "Crash", "email": format!("crash{n}@example.com"), "message": "Before the crash"}))
            .send()
            .await
            .unwrap();
        assert_eq!(lead.status(), StatusCode::CREATED);
        acknowledged += 1;
    }
    first.kill();

    // Nothing runs between the kill and the restart: every request from here on gets 200.
    receiver.rescript(|_, _| Reply::ok());
    let answered_before_restart = receiver.received().len();
    let (second, _) = serve_with(bin, &database.url, &FAST_DELIVERY).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !all_delivered(&client, &second.base, &key, acknowledged).await {
        assert!(std::time::Instant::now() < deadline, "not every acknowledged event was delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut delivered: Vec<String> = receiver.received()[answered_before_restart..]
        .iter()
        .map(|r| r.header("x-winfactor-delivery").to_owned())
        .collect();
    delivered.sort();
    delivered.dedup();
    assert_eq!(
        delivered.len(),
        acknowledged,
        "each acknowledged event reached the receiver with a 200"
    );
    second.terminate();
}

/// True when the log shows `expected` events, each delivered.
async fn all_delivered(client: &reqwest::Client, base: &str, key: &str, expected: usize) -> bool {
    let log: serde_json::Value = client
        .get(format!("{base}/api/v1/events?limit=100"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = log["data"].as_array().unwrap();
    events.len() == expected && events.iter().all(|e| e["deliveries"][0]["status"] == "delivered")
}

/// Runs the real binary: `serve --demo` prints a key that works, `keys create` prints a key
/// alone, SIGTERM stops it cleanly, and a restart keeps the data without re-seeding.
async fn cli_serves_the_demo_and_restarts_without_reseeding(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let bin = Path::new(BIN);
    let client = reqwest::Client::new();

    let (first, output) = serve(bin, &database.url).await;
    let stdout = String::from_utf8(output).unwrap();
    let demo_key = stdout.lines().last().expect("the demo key line").trim().to_owned();
    assert!(demo_key.starts_with("wf_"), "{stdout}");
    let org = client
        .get(format!("{}/api/v1/organization", first.base))
        .bearer_auth(&demo_key)
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), StatusCode::OK);
    first.terminate();

    let created = Command::new(bin)
        .args([
            "keys",
            "create",
            "--org",
            "window-works",
            "--read-only",
            "--database-url",
            &database.url,
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8(created.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "the key alone: {stdout:?}");
    let cli_key = stdout.trim().to_owned();

    let (second, output) = serve(bin, &database.url).await;
    assert!(!String::from_utf8(output).unwrap().contains("wf_"), "a restart must not re-seed");
    for key in [&demo_key, &cli_key] {
        let response = client
            .get(format!("{}/api/v1/templates", second.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let list: serde_json::Value = response.json().await.unwrap();
        assert_eq!(list["data"].as_array().unwrap().len(), 3, "templates were duplicated or lost");
    }
    second.terminate();
}

struct Running {
    child: std::process::Child,
    base: String,
}

impl Drop for Running {
    /// A failing test leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// SIGKILL: no chance to flush or finish anything.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then expect a clean exit.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
    }
}

/// Starts `winfactor serve --demo` on a free port; returns it once healthy, with what it
/// printed on stdout until then.
async fn serve(bin: &Path, database_url: &str) -> (Running, Vec<u8>) {
    serve_with(bin, database_url, &[]).await
}

/// [`serve`] with extra flags.
async fn serve_with(bin: &Path, database_url: &str, extra: &[&str]) -> (Running, Vec<u8>) {
    serve_with_env(bin, database_url, extra, &[]).await
}

/// [`serve_with`] with extra environment variables.
async fn serve_with_env(
    bin: &Path,
    database_url: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Running, Vec<u8>) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let stdout = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(bin)
        .args(["serve", "--demo", "--listen", &listen, "--database-url", database_url])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(stdout.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success())
        {
            return (Running { child, base }, std::fs::read(stdout.path()).unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().ok();
    child.wait().ok();
    panic!("winfactor serve did not become healthy");
}
