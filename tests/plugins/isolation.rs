//! One organisation's plugins cannot starve another's: hostile components (sleeping past
//! the deadline, aliased output, log floods) and compile bombs, on both databases.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::plugins::{plugin_wasm, sample_event};
use winfactor_tests::{Backend, TestApp, backend_tests};

use super::{put_configuration, wait_for_runs, with_width};

backend_tests!(
    sleepers_end_at_their_deadline_and_never_starve_another_org,
    aliased_output_and_log_floods_stop_at_the_caps,
    compile_bombs_fail_at_the_time_limit_and_wait_their_turn,
    a_compilation_past_its_memory_limit_fails,
    stored_versions_and_bytes_are_limited_per_org,
);

/// Opens a configuration session of the organisation `slug`.
async fn open_session_of(app: &TestApp, slug: &str) -> Value {
    let body = json!({ "templateSlug": "2-panel-lift-slide", "origin": "configurator" });
    let path = format!("/public/v1/orgs/{slug}/configuration-sessions");
    let (status, session) = app.call(Method::POST, &path, None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

async fn dry_run(app: &TestApp, key: &str, plugin: &str) -> Value {
    let path = format!("/api/v1/pricing-plugins/{plugin}/dry-run");
    let body = json!({ "event": sample_event() });
    let (status, run) = app.call(Method::POST, &path, Some(key), Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run
}

async fn sleepers_end_at_their_deadline_and_never_starve_another_org(backend: Backend) {
    // Few slots, so that the rival's 40 sleeping customers outnumber them five to one; the
    // organisations' share of plugin time out of the way (sleeping costs little of it): the
    // share of the slots alone keeps the demo organisation's prices coming.
    let app = Arc::new(
        TestApp::start_with(backend, |config| {
            config.plugin_limits.slots = 8;
            config.plugin_limits.org_slots = 4;
            config.plugin_limits.org_cpu_ms_per_second = 100_000;
        })
        .await,
    );
    let rival_key = app.seeded.rival_key.clone();
    let sleeper = app.activate_plugin_as(&rival_key, "hostile-sleep", &json!({})).await;
    app.activate_plugin("margin", &json!({"default": 0.25})).await;

    // A sleep of an hour ends at the run's deadline.
    let run = dry_run(&app, &rival_key, &sleeper).await;
    assert_eq!(run["outcome"], "timeout", "{run}");
    assert!(run["durationUs"].as_i64().unwrap() < 1_000_000, "the deadline ended it: {run}");

    // The rival's customers keep far more runs asleep than its share of the slots…
    let mut sessions = Vec::new();
    for _ in 0..40 {
        sessions.push(open_session_of(&app, "rival-glazing").await);
    }
    let attacking = Arc::new(AtomicBool::new(true));
    let slowest = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let (app, attacking, slowest) = (app.clone(), attacking.clone(), slowest.clone());
            tokio::spawn(async move {
                let id = session["id"].as_str().unwrap().to_owned();
                let mut width = 2000;
                while attacking.load(Ordering::Relaxed) {
                    width += 1;
                    let started = Instant::now();
                    let (status, pricing) =
                        put_configuration(&app, &id, &with_width(&session, width)).await;
                    assert_eq!(status, StatusCode::OK, "{pricing}");
                    assert_eq!(pricing["source"], "base", "{pricing}");
                    slowest.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // …while the demo organisation's plugin prices every change of its customers.
    let session = app.open_session("2-panel-lift-slide").await;
    assert_eq!(session["pricing"]["source"], "plugin", "{session}");
    let id = session["id"].as_str().unwrap();
    for step in 0..20 {
        let (status, pricing) =
            put_configuration(&app, id, &with_width(&session, 2100 + step)).await;
        assert_eq!(status, StatusCode::OK, "{pricing}");
        assert_eq!(
            (pricing["status"].as_str(), pricing["source"].as_str()),
            (Some("confirmed"), Some("plugin")),
            "change {step} during the attack: {pricing}"
        );
    }
    attacking.store(false, Ordering::Relaxed);
    for attacker in attackers {
        attacker.await.unwrap();
    }
    let slowest = slowest.load(Ordering::Relaxed);
    assert!(slowest < 5_000, "a rival change waited {slowest} ms");

    // The sleepers were cut at their deadline; most first waited for one of the rival's
    // own slots, which left them less of it.
    let runs = wait_for_runs(&app, &rival_key, &sleeper, |runs| runs.len() >= 40).await;
    let waited = runs.iter().filter(|run| {
        assert!(matches!(run["outcome"].as_str(), Some("timeout" | "busy")), "{run}");
        let error = run["error"].as_str().unwrap();
        let deadline = error.strip_prefix("deadline of ").and_then(|e| e.split(' ').next());
        deadline.and_then(|ms| ms.parse::<u64>().ok()).is_some_and(|ms| ms < 40)
    });
    assert!(waited.count() > 0, "no run waited for the rival's share: {runs:?}");

    // Shutdown ends the runs in flight.
    let session = open_session_of(&app, "rival-glazing").await;
    let url = app.url(&format!(
        "/public/v1/configuration-sessions/{}/configuration",
        session["id"].as_str().unwrap()
    ));
    let body = json!({ "configuration": with_width(&session, 2999) });
    let in_flight =
        tokio::spawn(async move { reqwest::Client::new().put(url).json(&body).send().await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let app = Arc::into_inner(app).expect("the attackers are done");
    let stopping = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), app.stop()).await.expect("the server stops");
    assert!(stopping.elapsed() < Duration::from_secs(10));
    let _ = in_flight.await;
}

/// Resident memory of this process (the server runs in it), bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

async fn aliased_output_and_log_floods_stop_at_the_caps(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.plugin_limits.org_slots = 32;
        config.plugin_limits.org_cpu_ms_per_second = 100_000;
    })
    .await;
    let key = app.seeded.key.clone();
    let (status, alias) =
        app.upload_plugin_as(&key, "alias", &plugin_wasm("hostile-alias"), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{alias}");
    let alias = alias["id"].as_str().unwrap().to_owned();
    assert_eq!(app.compiled_plugin_as(&key, &alias).await["status"], "ready");
    dry_run(&app, &key, &alias).await;

    // 64 runs, 32 at a time, each handing the host 1 300 rows that point at one 100 KB
    // buffer (130 MB if copied): stopped at the output cap before it is copied.
    let before = resident_bytes();
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (app, key, alias) = (app.clone(), key.clone(), alias.clone());
            tokio::spawn(async move {
                let mut runs = Vec::new();
                for _ in 0..2 {
                    runs.push(dry_run(&app, &key, &alias).await);
                }
                runs
            })
        })
        .collect();
    for task in tasks {
        for run in task.await.unwrap() {
            assert_eq!(run["outcome"], "invalid_output", "{run}");
            assert!(run["error"].as_str().unwrap().contains("in one call"), "{run}");
            assert!(run["durationUs"].as_i64().unwrap() < 1_000_000, "{run}");
        }
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let grown = peak.load(Ordering::Relaxed).saturating_sub(before) >> 20;
    assert!(grown < 256, "resident memory grew by {grown} MiB during the runs");

    // A flood of newlines, text and log calls is held to one log cap; the plugin still
    // prices.
    let (status, chatter) =
        app.upload_plugin_as(&key, "chatter", &plugin_wasm("hostile-chatter"), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{chatter}");
    let chatter = chatter["id"].as_str().unwrap().to_owned();
    app.compiled_plugin_as(&key, &chatter).await;
    let run = dry_run(&app, &key, &chatter).await;
    assert_eq!(run["outcome"], "ok", "{run}");
    let limits = &run["limits"];
    let log: Vec<&str> =
        run["log"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(*log.last().unwrap(), "[log truncated: cap reached]");
    let bytes: usize = log[..log.len() - 1].iter().map(|l| l.len()).sum();
    assert!(bytes as u64 <= limits["logBytes"].as_u64().unwrap(), "{bytes} bytes");
    assert!(log.len() as u64 <= limits["logLines"].as_u64().unwrap() + 1, "{} lines", log.len());
    let stored = wait_for_runs(&app, &key, &chatter, |runs| !runs.is_empty()).await;
    assert!(stored[0].to_string().len() < 64 * 1024, "the stored run stays small");
}

/// A component exporting `price` whose one core function nests `depth` blocks: a few
/// hundred KB that take cranelift many seconds to compile.
fn nested_blocks(depth: usize) -> Vec<u8> {
    let mut body = String::with_capacity(depth * 10);
    body.push_str(&"block\n".repeat(depth));
    body.push_str(&"end\n".repeat(depth));
    component_with_body(&body)
}

/// A component exporting `price` (of the wrong type: compilation comes first) whose one
/// core function is `body`.
fn component_with_body(body: &str) -> Vec<u8> {
    let text = format!(
        r#"(component
            (core module $m (func (export "f") (result i32) (local i64 i64 i64 i64) {body} i32.const 0))
            (core instance $i (instantiate $m))
            (func (export "price") (result u32) (canon lift (core func $i "f"))))"#
    );
    wat::parse_str(text).expect("valid component text")
}

/// The memory limit of [`a_compilation_past_its_memory_limit_fails`], and steps of a
/// function that needs more to compile.
const HOG_LIMIT_MIB: usize = 128;
const HOG_STEPS: usize = 300_000;

/// A component whose one function is `n` chained multiplications and additions over a
/// handful of locals: compiling it takes memory in proportion.
fn long_function(n: usize) -> Vec<u8> {
    let step = "local.get 0 local.get 1 i64.mul local.get 2 i64.add local.set 3 \
                local.get 3 local.get 0 i64.xor local.set 1\n";
    component_with_body(&step.repeat(n))
}

async fn status_of(app: &TestApp, key: &str, id: &str) -> Value {
    let path = format!("/api/v1/pricing-plugins/{id}");
    let (status, version) = app.call(Method::GET, &path, Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "{version}");
    version
}

async fn compile_bombs_fail_at_the_time_limit_and_wait_their_turn(backend: Backend) {
    // Long enough for `margin` in a test build's compile worker (~2.5 s), far too short for
    // a bomb (~85 s).
    let app = TestApp::start_with(backend, |config| {
        config.plugin_limits.compile_timeout = Duration::from_secs(6);
    })
    .await;
    let rival_key = app.seeded.rival_key.clone();
    let mut bombs = Vec::new();
    for n in 0..2 {
        let (status, bomb) =
            app.upload_plugin_as(&rival_key, "bomb", &nested_blocks(100_000 + n), &json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{bomb}");
        bombs.push(bomb["id"].as_str().unwrap().to_owned());
    }
    let started = Instant::now();
    while status_of(&app, &rival_key, &bombs[0]).await["status"] != "compiling" {
        assert!(started.elapsed() < Duration::from_secs(10), "the first bomb never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The demo organisation's upload goes next, whatever the rival queued before it.
    let (status, margin) =
        app.upload_plugin_as(&app.seeded.key, "margin", &plugin_wasm("margin"), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{margin}");
    assert_eq!(margin["status"], "queued", "{margin}");
    assert_eq!(margin["queuePosition"], 1, "next after the compilation running: {margin}");
    let margin = margin["id"].as_str().unwrap().to_owned();
    let ready = app.compiled_plugin_as(&app.seeded.key, &margin).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let last_bomb = status_of(&app, &rival_key, &bombs[1]).await;
    assert!(
        matches!(last_bomb["status"].as_str(), Some("queued" | "compiling")),
        "the rival's later bomb waited for the demo's compilation: {last_bomb}"
    );

    for bomb in &bombs {
        let failed = app.compiled_plugin_as(&rival_key, bomb).await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert!(failed["error"].as_str().unwrap().contains("longer than the limit"), "{failed}");
    }
}

async fn a_compilation_past_its_memory_limit_fails(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.plugin_limits.compile_memory_bytes = HOG_LIMIT_MIB << 20;
    })
    .await;
    let key = app.seeded.key.clone();
    let (status, hog) =
        app.upload_plugin_as(&key, "hog", &long_function(HOG_STEPS), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{hog}");
    let hog = app.compiled_plugin_as(&key, hog["id"].as_str().unwrap()).await;
    assert_eq!(hog["status"], "failed", "{hog}");
    let reason = hog["error"].as_str().unwrap();
    assert!(reason.contains(&format!("{HOG_LIMIT_MIB} MiB of memory")), "{hog}");
    // The service still compiles what fits.
    let id = app.activate_plugin("margin", &json!({})).await;
    assert!(!id.is_empty());
}

async fn stored_versions_and_bytes_are_limited_per_org(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.plugin_limits.org_max_versions = 3;
        config.plugin_limits.org_max_stored_bytes = 450 << 10;
    })
    .await;
    let key = app.seeded.key.clone();
    let margin = plugin_wasm("margin");
    let alias = plugin_wasm("hostile-alias");
    let mut ids = Vec::new();
    for wasm in [&margin, &alias, &alias] {
        let (status, version) = app.upload_plugin_as(&key, "p", wasm, &json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{version}");
        ids.push(version["id"].as_str().unwrap().to_owned());
    }
    let (status, refused) = app.upload_plugin_as(&key, "p", &alias, &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "plugin_storage_full");
    assert!(refused["error"]["message"].as_str().unwrap().contains("3 plugin versions"));
    // Another organisation's room is its own.
    let (status, _) = app.upload_plugin_as(&app.seeded.rival_key, "p", &margin, &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Deleting a version frees room; bytes count too.
    app.compiled_plugin_as(&key, &ids[1]).await;
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/v1/pricing-plugins/{}", ids[1]), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = app.upload_plugin_as(&key, "p", &margin, &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "margin twice is over 450 KiB: {refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("bytes"), "{refused}");
    let (status, version) = app.upload_plugin_as(&key, "p", &alias, &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{version}");
}
