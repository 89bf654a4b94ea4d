//! Onboarding real organisations: the README's commands word for word, a second
//! organisation through the operator API, both pricing, answering, submitting and quoting
//! apart from each other; catalog files that export and import unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use winfactor_tests::{Backend, Receiver, TestApp, TestDatabase, backend_tests};

use super::BIN;

backend_tests!(
    organisations_onboarded_by_the_readme_and_the_operator_api_work_apart,
    a_catalog_export_imports_into_a_fresh_database_unchanged,
);

const OPERATOR_TOKEN: &str = "wfop_onboarding-test-token-9876543210";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository").to_owned()
}

/// The commands of the README's "Onboard an organisation" block.
fn readme_onboarding() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("the README");
    let start = readme.find("<!-- onboarding").expect("the onboarding block's start marker");
    let end = readme.find("<!-- /onboarding -->").expect("the onboarding block's end marker");
    let block = &readme[start..end];
    let commands: Vec<&str> =
        block.lines().skip(1).filter(|line| !line.starts_with("```")).collect();
    assert!((1..=5).contains(&commands.len()), "at most five commands: {commands:?}");
    commands.join("\n")
}

/// Runs `script` with bash from the repository root, `winfactor` on the `PATH` and
/// `DATABASE_URL` set; panics with its output unless it succeeds.
fn run_script(script: &str, database_url: &str) -> Output {
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(repo_root())
        .env("PATH", path)
        .env("DATABASE_URL", database_url)
        .env_remove("WINFACTOR_CONFIG")
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "`{script}` failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `winfactor ARGS…` on `database_url`.
fn winfactor(args: &[&str], database_url: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("WINFACTOR_CONFIG")
        .output()
        .expect("winfactor runs")
}

async fn call(app: &TestApp, method: Method, path: &str, key: &str, body: Option<&Value>) -> Value {
    let (status, answer) = app.call(method.clone(), path, Some(key), body).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

/// Polls the public session until its price is `confirmed`; returns the pricing.
async fn confirmed(app: &TestApp, session: &Value) -> Value {
    let path = format!("/public/v1/configuration-sessions/{}", session["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, now) = app.call(Method::GET, &path, None, None).await;
        if now["pricing"]["status"] == "confirmed" {
            return now["pricing"].clone();
        }
        assert!(Instant::now() < deadline, "never confirmed: {now}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn open_session(app: &TestApp, org: &str, template: &str) -> Value {
    let path = format!("/public/v1/orgs/{org}/configuration-sessions");
    let (status, session) =
        app.call(Method::POST, &path, None, Some(&json!({"templateSlug": template}))).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

async fn submit_and_quote(app: &TestApp, key: &str, session: &Value, name: &str) -> (Value, Value) {
    let body = json!({"customer": {"name": name, "email": "buyer@example.com"}});
    let submission = app.submit_session(session, &body).await;
    let id = submission["id"].as_str().unwrap();
    let quote =
        call(app, Method::POST, &format!("/api/v1/submissions/{id}/quotes"), key, Some(&json!({})))
            .await;
    (submission, quote)
}

async fn organisations_onboarded_by_the_readme_and_the_operator_api_work_apart(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.operator_token_sha256 = Some(Sha256::digest(OPERATOR_TOKEN).into());
        config.pricing_debounce = Duration::ZERO;
    })
    .await;

    // Okna Kowalski (PLN): the README's commands against the running service's database.
    let output = run_script(&readme_onboarding(), &app.database.url);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let pl_key = stdout.lines().last().expect("the key").trim().to_owned();
    assert!(pl_key.starts_with("wf_"), "{stdout}");

    // Pacific Sliders (USD, imperial): the operator API.
    let create = json!({"slug": "pacific-sliders", "name": "Pacific Sliders Inc", "email": "orders@pacific.example",
        "currency": "USD", "locale": "en-US", "unitSystem": "imperial", "plan": "pro"});
    let (status, org) =
        app.call(Method::POST, "/admin/v1/orgs", Some(OPERATOR_TOKEN), Some(&create)).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("examples/catalogs/pacific-sliders-usd.json"))
            .unwrap(),
    )
    .unwrap();
    let imported = call(
        &app,
        Method::PUT,
        "/admin/v1/orgs/pacific-sliders/catalog",
        OPERATOR_TOKEN,
        Some(&file),
    )
    .await;
    assert_eq!(imported["created"], json!(["2-panel-sliding-patio-door", "4-panel-sliding-door"]));
    let key = call(
        &app,
        Method::POST,
        "/admin/v1/orgs/pacific-sliders/api-keys",
        OPERATOR_TOKEN,
        Some(&json!({"name": "erp"})),
    )
    .await;
    let us_key = key["secret"].as_str().unwrap().to_owned();

    // Each prices its own products in its own currency.
    for (key, slug, currency) in
        [(&pl_key, "okno-rozwierno-uchylne", "PLN"), (&us_key, "2-panel-sliding-patio-door", "USD")]
    {
        let templates = call(&app, Method::GET, "/api/v1/templates", key, None).await;
        assert_eq!(templates["data"].as_array().unwrap().len(), 2, "{templates}");
        let template =
            call(&app, Method::GET, &format!("/api/v1/templates/{slug}"), key, None).await;
        let body = json!({"configuration": template["defaultConfiguration"]});
        let priced = call(
            &app,
            Method::POST,
            &format!("/api/v1/templates/{slug}/pricing"),
            key,
            Some(&body),
        )
        .await;
        assert_eq!(priced["basePricing"]["currency"], currency);
        assert!(priced["basePricing"]["subtotal"].as_f64().unwrap() > 0.0);
    }

    // The Polish maker answers live through its webhook.
    let receiver = Receiver::start().await;
    let hook = json!({"url": receiver.url, "events": ["pricing.calculated"]});
    call(&app, Method::POST, "/api/v1/webhooks", &pl_key, Some(&hook)).await;
    let pl_session = open_session(&app, "okna-kowalski", "okno-rozwierno-uchylne").await;
    assert_eq!(pl_session["pricing"]["status"], "pending");
    let request = receiver.wait_for(1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(request.json()["data"]["basePricing"]["currency"], "PLN");
    let items =
        json!([{"description": "Okno PVC wg cennika ERP", "quantity": 1, "unitPrice": 1234.56}]);
    let (status, answer) = app.answer_pricing(&request, &items).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let pricing = confirmed(&app, &pl_session).await;
    assert_eq!(
        (pricing["source"].as_str(), pricing["subtotal"].as_f64()),
        (Some("external"), Some(1234.56))
    );

    // The American maker prices with its plugin.
    app.activate_plugin_as(&us_key, "margin", &json!({"default": 0.25})).await;
    let us_session = open_session(&app, "pacific-sliders", "2-panel-sliding-patio-door").await;
    let pricing = confirmed(&app, &us_session).await;
    assert_eq!(
        (pricing["source"].as_str(), pricing["currency"].as_str()),
        (Some("plugin"), Some("USD"))
    );

    let (pl_submission, pl_quote) =
        submit_and_quote(&app, &pl_key, &pl_session, "Łukasz Żółkiewski").await;
    let (us_submission, us_quote) = submit_and_quote(&app, &us_key, &us_session, "Jo Smith").await;
    assert_eq!(
        (pl_quote["currency"].as_str(), pl_quote["total"].as_f64()),
        (Some("PLN"), Some(1234.56))
    );
    assert_eq!(us_quote["currency"], "USD");

    // Neither sees anything of the other (nor of the demo organisation).
    let foreign = [
        (&pl_key, format!("/api/v1/submissions/{}", us_submission["id"].as_str().unwrap())),
        (&pl_key, format!("/api/v1/quotes/{}", us_quote["id"].as_str().unwrap())),
        (&pl_key, format!("/api/v1/templates/{}", us_session["templateId"].as_str().unwrap())),
        (&us_key, format!("/api/v1/submissions/{}", pl_submission["id"].as_str().unwrap())),
        (&us_key, format!("/api/v1/quotes/{}", pl_quote["id"].as_str().unwrap())),
        (&us_key, format!("/api/v1/configuration-sessions/{}", pl_session["id"].as_str().unwrap())),
        (&us_key, "/api/v1/templates/tilt-turn-window".to_owned()),
    ];
    for (key, path) in foreign {
        let (status, body) = app.call(Method::GET, &path, Some(key), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    for (key, own) in [(&pl_key, &pl_submission), (&us_key, &us_submission)] {
        let listed = call(&app, Method::GET, "/api/v1/submissions", key, None).await;
        let ids: Vec<&Value> =
            listed["data"].as_array().unwrap().iter().map(|s| &s["id"]).collect();
        assert_eq!(ids, [&own["id"]], "only its own submission");
        let quotes = call(&app, Method::GET, "/api/v1/quotes", key, None).await;
        assert_eq!(quotes["data"].as_array().unwrap().len(), 1);
    }
    assert_eq!(
        receiver.received().len(),
        1,
        "the American session fired nothing at the Polish hook"
    );
}

async fn a_catalog_export_imports_into_a_fresh_database_unchanged(backend: Backend) {
    let example = repo_root().join("examples/catalogs/okna-pvc-pln.json");
    let original = std::fs::read_to_string(&example).unwrap();
    let create = |slug: &str| {
        format!(
            "winfactor orgs create --slug {slug} --name 'Okna {slug}' --email biuro@{slug}.example --currency PLN --plan pro"
        )
    };

    let first = TestDatabase::create(backend).await;
    run_script(&create("okna-one"), &first.url);
    run_script(
        "winfactor catalog import --org okna-one examples/catalogs/okna-pvc-pln.json",
        &first.url,
    );
    let exported = winfactor(&["catalog", "export", "--org", "okna-one"], &first.url);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let exported = String::from_utf8(exported.stdout).unwrap();
    assert_eq!(exported, original, "an import exports as the file it came from");

    let second = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.json");
    std::fs::write(&file, &exported).unwrap();
    run_script(&create("okna-two"), &second.url);
    run_script(&format!("winfactor catalog import --org okna-two {}", file.display()), &second.url);
    let again = winfactor(&["catalog", "export", "--org", "okna-two"], &second.url);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), exported, "byte for byte");

    // Importing it again changes nothing; a directory imports every file in it.
    let unchanged = winfactor(
        &["catalog", "import", "--org", "okna-two", &file.display().to_string()],
        &second.url,
    );
    assert!(
        String::from_utf8_lossy(&unchanged.stderr).contains("okno-rozwierno-uchylne: unchanged")
    );
    run_script(&create("okna-all"), &second.url);
    run_script("winfactor catalog import --org okna-all examples/catalogs", &second.url);
    let all = winfactor(&["catalog", "export", "--org", "okna-all"], &second.url);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(all["templates"].as_array().unwrap().len(), 7);

    // A broken file is refused whole, each problem named with its path.
    let mut broken: Value = serde_json::from_str(&original).unwrap();
    broken["templates"][1]["slug"] = broken["templates"][0]["slug"].clone();
    broken["templates"][0]["pricingRules"][2]["sourceId"] = json!("ghost");
    std::fs::write(&file, broken.to_string()).unwrap();
    let refused = winfactor(
        &["catalog", "import", "--org", "okna-all", &file.display().to_string()],
        &second.url,
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("templates[1].slug")
            && stderr.contains("templates[0].pricingRules[2].sourceId"),
        "{stderr}"
    );
    let unknown = winfactor(&["orgs", "update", "no-such-org", "--plan", "pro"], &second.url);
    assert!(!unknown.status.success());
}
