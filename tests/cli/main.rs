//! The `winfactor` binary itself: `serve --demo`, `keys create`, SIGTERM, restarts.
//!
//! This target belongs to the `winfactor` package (see `host/Cargo.toml`) so cargo builds
//! the binary for it and hands over its path in `CARGO_BIN_EXE_winfactor`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use winfactor_tests::{Backend, TestDatabase, backend_tests};

const BIN: &str = env!("CARGO_BIN_EXE_winfactor");

backend_tests!(cli_serves_the_demo_and_restarts_without_reseeding);

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

impl Running {
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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let stdout = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(bin)
        .args(["serve", "--demo", "--listen", &listen, "--database-url", database_url])
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
    panic!("winfactor serve did not become healthy");
}
