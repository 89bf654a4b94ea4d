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

/// The fenced blocks of `sdk/README.md`'s walk, in order: (info string, body).
fn readme_blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(sdk_dir().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in readme.lines() {
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
    blocks
}

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk").canonicalize().unwrap()
}

async fn the_sdk_readme_walk_ends_with_an_active_plugin(backend: Backend) {
    let app = TestApp::start(backend).await;
    let work = tempfile::tempdir().unwrap();
    let event = event_file(work.path());
    let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    // The walk builds in the crate's own `target/` as the README says; with a persistent
    // CARGO_TARGET_DIR (CI) that directory is a link to one kept between runs, so the SDK's
    // dependencies compile once.
    let shared_target = std::env::var("CARGO_TARGET_DIR").ok().map(|dir| format!("{dir}/sdk-walk"));
    let mut cwd = work.path().to_owned();
    for (info, body) in readme_blocks() {
        match info.as_str() {
            "rust" => std::fs::write(cwd.join("src/lib.rs"), body).unwrap(),
            "sh" => {
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
