//! `winfactor plugin check|run` on real components, and the SDK README's walk from
//! `cargo new` to an active plugin, run word for word.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::plugins::{plugin_dir, sample_event};
use winfactor_tests::{Backend, TestApp, backend_tests};

use super::BIN;

backend_tests!(the_sdk_readme_walk_ends_with_an_active_plugin);

fn winfactor(args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN).args(args).output().expect("winfactor runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn component(name: &str) -> String {
    plugin_dir().join(format!("{name}.wasm")).display().to_string()
}

fn event_file(dir: &Path) -> String {
    let path = dir.join("event.json");
    std::fs::write(&path, sample_event().to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn plugin_check_accepts_components_and_explains_refusals() {
    let (ok, text) = winfactor(&["plugin", "check", &component("margin")]);
    assert!(ok, "{text}");
    assert!(text.contains("ready to upload") && text.contains("exports: price"), "{text}");
    let (ok, text) = winfactor(&["plugin", "check", &component("hostile_evil_import")]);
    assert!(!ok);
    assert!(text.contains("hostile:evil/net") && text.contains("does not provide"), "{text}");
    let (ok, text) = winfactor(&["plugin", "check", &component("hostile_wrong_world")]);
    assert!(!ok);
    assert!(text.contains("does not export `price`"), "{text}");
}

#[test]
fn plugin_run_prints_output_and_figures_against_limits() {
    let dir = tempfile::tempdir().unwrap();
    let event = event_file(dir.path());
    let (ok, text) = winfactor(&[
        "plugin",
        "run",
        &component("margin"),
        "--input",
        &event,
        "--settings",
        r#"{"default": 0.5}"#,
    ]);
    assert!(ok, "{text}");
    for shown in
        ["outcome      ok", "duration", "peak memory", "limit", "line items", "[info] marked up"]
    {
        assert!(text.contains(shown), "`{shown}` missing from:\n{text}");
    }
    let (ok, json_text) =
        winfactor(&["plugin", "run", &component("margin"), "--input", &event, "--json"]);
    assert!(ok, "{json_text}");
    let report: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["limits"]["budgetMs"], 50);
    assert!(report["durationUs"].as_u64().unwrap() > 0);
    assert!(report["output"]["lineItems"].as_array().unwrap().len() >= 3);

    let (ok, text) = winfactor(&["plugin", "run", &component("hostile_spin"), "--input", &event]);
    assert!(!ok, "a run that would time out fails");
    assert!(text.contains("timeout") && text.contains("would fail in production"), "{text}");
    let (ok, text) = winfactor(&["plugin", "run", &component("hostile_grow"), "--input", &event]);
    assert!(!ok);
    assert!(text.contains("memory_limit"), "{text}");
}

/// The fenced blocks of the section of `sdk/README.md` whose heading starts with
/// `heading`, in order: (info string, body).
fn readme_blocks(heading: &str) -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(sdk_dir().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut inside = false;
    for line in readme.lines() {
        if current.is_none() && line.starts_with("## ") {
            inside = line.starts_with(heading);
            continue;
        }
        if !inside {
            continue;
        }
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.to_owned(), String::new())),
            (Some(_), Some("")) => blocks.push(current.take().unwrap()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(!blocks.is_empty(), "no section `{heading}` in sdk/README.md");
    blocks
}

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk").canonicalize().unwrap()
}

/// Runs the walk under `heading` word for word against `app`: `sh` blocks in bash (each
/// in the directory the previous one ended in), `rust` blocks written to `src/lib.rs`.
/// Returns how many `sh` blocks ran and the commands they held.
fn run_walk(app: &TestApp, heading: &str) -> usize {
    let work = tempfile::tempdir().unwrap();
    let event = event_file(work.path());
    let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    // The walk builds in the crate's own `target/` as the README says; with a persistent
    // CARGO_TARGET_DIR (CI) that directory is a link to one kept between runs, so the SDK's
    // dependencies compile once.
    let shared_target = std::env::var("CARGO_TARGET_DIR").ok().map(|dir| format!("{dir}/sdk-walk"));
    let mut cwd = work.path().to_owned();
    let mut commands = 0;
    for (info, body) in readme_blocks(heading) {
        match info.as_str() {
            "rust" => std::fs::write(cwd.join("src/lib.rs"), body).unwrap(),
            "sh" => {
                commands +=
                    body.lines().filter(|l| !l.trim().is_empty() && !l.ends_with('\\')).count();
                let script = format!("set -euo pipefail\n{body}\npwd > \"$WALK_CWD\"\n");
                let output = Command::new("bash")
                    .arg("-c")
                    .arg(&script)
                    .current_dir(&cwd)
                    .env("PATH", &path)
                    .env("SDK", sdk_dir())
                    .env("EVENT", &event)
                    .env("WINFACTOR_URL", &app.base)
                    .env("WINFACTOR_KEY", &app.seeded.key)
                    .env_remove("CARGO_TARGET_DIR")
                    .env("WALK_CWD", work.path().join("cwd"))
                    .output()
                    .unwrap();
                assert!(
                    output.status.success(),
                    "README step failed:\n{body}\n{}\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                let after = std::fs::read_to_string(work.path().join("cwd")).unwrap();
                cwd = PathBuf::from(after.trim());
                if let Some(shared) = &shared_target
                    && cwd.join("Cargo.toml").exists()
                    && !cwd.join("target").exists()
                {
                    std::fs::create_dir_all(shared).unwrap();
                    std::os::unix::fs::symlink(shared, cwd.join("target")).unwrap();
                }
            }
            other => panic!("unexpected block `{other}` in the walk"),
        }
    }
    commands
}

async fn the_sdk_readme_walk_ends_with_an_active_plugin(backend: Backend) {
    let app = TestApp::start(backend).await;
    run_walk(&app, "## From `cargo new`");
    // The plugin is active: a configuration is priced by it, delivery fee included.
    let (_, list) = app.get("/api/v1/pricing-plugins").await;
    assert_eq!(list["data"][0]["name"], "delivery-fee");
    assert_eq!(list["activeId"], list["data"][0]["id"]);
    let session = app.open_session("2-panel-lift-slide").await;
    assert_eq!(session["pricing"]["source"], "plugin");
    let items = session["pricing"]["lineItems"].as_array().unwrap();
    assert!(items.iter().any(|i| i["description"] == "Delivery"), "{items:?}");
    let (status, rival) =
        app.call(Method::GET, "/api/v1/pricing-plugins", Some(&app.seeded.rival_key), None).await;
    assert_eq!((status, &rival["data"]), (StatusCode::OK, &json!([])), "another org sees none");
}

/// The Python and JavaScript walks of `sdk/README.md`, word for word, in five commands each:
/// the scaffold's own test passes, its component deploys and prices as the organisation's
/// active plugin. (The walk exercises the CLI and the kits; one database is enough.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_javascript_walks_end_with_an_active_plugin() {
    let app = TestApp::start(Backend::Sqlite).await;
    for (heading, name) in [("## Python", "delivery-py"), ("## JavaScript", "delivery-js")] {
        let commands = run_walk(&app, heading);
        assert!(commands <= 5, "{heading}: {commands} commands");
        let (_, list) = app.get("/api/v1/pricing-plugins").await;
        assert_eq!(list["data"][0]["name"], name, "{list}");
        assert_eq!(list["activeId"], list["data"][0]["id"]);
        let session = app.open_session("2-panel-lift-slide").await;
        assert_eq!(session["pricing"]["source"], "plugin", "{name}: {session}");
        let items = session["pricing"]["lineItems"].as_array().unwrap();
        assert!(items.iter().any(|i| i["description"] == "Delivery"), "{name}: {items:?}");
    }
}

#[test]
fn plugin_sample_request_prints_a_request_plugins_accept() {
    let (ok, text) = winfactor(&["plugin", "sample-request", "--template", "2-panel-lift-slide"]);
    assert!(ok, "{text}");
    let request: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(request["template"]["slug"], "2-panel-lift-slide");
    assert!(!request["basePricing"]["lineItems"].as_array().unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.json");
    std::fs::write(&path, &text).unwrap();
    let (ok, run) =
        winfactor(&["plugin", "run", &component("margin"), "--input", path.to_str().unwrap()]);
    assert!(ok, "{run}");
    let (ok, text) = winfactor(&["plugin", "sample-request", "--template", "no-such-door"]);
    assert!(!ok && text.contains("no template `no-such-door`"), "{text}");
}

#[test]
fn plugin_deploy_fails_when_the_service_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let not_wasm = dir.path().join("x.wasm");
    std::fs::write(&not_wasm, b"not wasm").unwrap();
    // Nothing listens on this port: the deploy says so and fails.
    let (ok, text) = winfactor(&[
        "plugin",
        "deploy",
        not_wasm.to_str().unwrap(),
        "--name",
        "x",
        "--url",
        "http://127.0.0.1:9",
        "--key",
        "k",
    ]);
    assert!(!ok && text.contains("cannot reach"), "{text}");
}
