//! Real organisations: the operator API (`/admin/v1`), catalogs managed through REST v1
//! (validation with paths, versions that open sessions keep, deletion that breaks nothing),
//! and disabling an organisation.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use winfactor_tests::{Backend, Receiver, Reply, TestApp, backend_tests};

backend_tests!(
    the_operator_api_is_off_unless_configured_and_needs_its_token,
    every_broken_definition_is_refused_with_the_path_of_each_problem,
    an_open_session_keeps_its_template_version_until_it_changes,
    a_deleted_template_leaves_the_catalog_but_not_its_sessions,
    a_disabled_organisation_is_refused_everywhere_and_its_deliveries_wait,
);

const OPERATOR_TOKEN: &str = "wfop_test-operator-token-0123456789";

/// A server whose operator API opens with [`OPERATOR_TOKEN`].
async fn with_operator(backend: Backend, adjust: impl FnOnce(&mut winfactor::Config)) -> TestApp {
    TestApp::start_with(backend, |config| {
        config.operator_token_sha256 = Some(Sha256::digest(OPERATOR_TOKEN).into());
        adjust(config);
    })
    .await
}

async fn operator(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(OPERATOR_TOKEN), body).await
}

async fn the_operator_api_is_off_unless_configured_and_needs_its_token(backend: Backend) {
    let closed = TestApp::start(backend).await;
    let (status, body) =
        closed.call(Method::GET, "/admin/v1/orgs", Some(OPERATOR_TOKEN), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    drop(closed);

    let app = with_operator(backend, |_| {}).await;
    for key in [None, Some("wfop_wrong"), Some(app.seeded.key.as_str())] {
        let (status, body) = app.call(Method::GET, "/admin/v1/orgs", key, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}: {body}");
    }
    let (status, plans) = operator(&app, Method::GET, "/admin/v1/plans", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plans[0]["plan"], "free");
    assert_eq!(plans[0]["features"]["apiAccess"], false);
    assert_eq!(plans[1]["features"]["apiAccess"], true);

    let body = json!({"slug": "nordic-glass", "name": "Nordic Glass AB", "email": "sales@nordic.example",
        "currency": "SEK", "locale": "sv", "plan": "pro"});
    let (status, org) = operator(&app, Method::POST, "/admin/v1/orgs", Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!((org["currency"].as_str(), org["plan"].as_str()), (Some("SEK"), Some("pro")));
    let (status, again) = operator(&app, Method::POST, "/admin/v1/orgs", Some(&body)).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("slug_taken"))
    );
    let broken = json!({"slug": "Not a slug", "email": "nope", "currency": "euro"});
    let (status, refused) = operator(&app, Method::POST, "/admin/v1/orgs", Some(&broken)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths = error_paths(&refused);
    for path in ["slug", "email", "currency", "name"] {
        assert!(paths.contains(&path.to_owned()), "{path} missing in {refused}");
    }
    let path = "/admin/v1/orgs/nordic-glass";
    let (status, updated) = operator(
        &app,
        Method::PATCH,
        path,
        Some(&json!({"plan": "enterprise", "unitSystem": "imperial"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["plan"].as_str(), updated["unitSystem"].as_str()),
        (Some("enterprise"), Some("imperial"))
    );
    let (status, _) = operator(&app, Method::PATCH, path, Some(&json!({"currency": "EUR"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, created) = operator(
        &app,
        Method::POST,
        "/admin/v1/orgs/nordic-glass/api-keys",
        Some(&json!({"name": "erp"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["secret"].as_str().unwrap();
    let (status, profile) = app.call(Method::GET, "/api/v1/organization", Some(key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["slug"], "nordic-glass");
    let (status, templates) = app.call(Method::GET, "/api/v1/templates", Some(key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(templates["data"], json!([]), "a new organisation starts with an empty catalog");
    let (_, listed) = operator(&app, Method::GET, "/admin/v1/orgs", None).await;
    let slugs: Vec<&str> =
        listed["data"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    assert!(slugs.contains(&"nordic-glass") && slugs.contains(&"window-works"), "{slugs:?}");
}

fn error_paths(body: &Value) -> Vec<String> {
    body["error"]["details"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors in {body}"))
        .iter()
        .map(|error| error["path"].as_str().unwrap().to_owned())
        .collect()
}

/// The demo's tilt & turn window as a definition (what `GET` shows minus id and version).
async fn definition(app: &TestApp, slug: &str) -> Value {
    let mut template = app.template(slug).await;
    let object = template.as_object_mut().unwrap();
    object.remove("id");
    object.remove("version");
    template
}

async fn put_template(app: &TestApp, slug: &str, body: &Value) -> (StatusCode, Value) {
    app.call(Method::PUT, &format!("/api/v1/templates/{slug}"), Some(&app.seeded.key), Some(body))
        .await
}

async fn every_broken_definition_is_refused_with_the_path_of_each_problem(backend: Backend) {
    let app = TestApp::start(backend).await;
    let valid = definition(&app, "tilt-turn-window").await;
    let breakages: Vec<Breakage> = vec![
        (
            "duplicate option code",
            Box::new(|d| d["options"][1]["code"] = d["options"][0]["code"].clone()),
            &["options[1].code"],
        ),
        (
            "unknown option",
            Box::new(|d| d["components"][0]["optionIds"][0] = json!("no-such-option")),
            &["components[0].optionIds[0]"],
        ),
        (
            "rule referencing nothing",
            Box::new(|d| d["pricingRules"][1]["sourceId"] = json!("ghost")),
            &["pricingRules[1].sourceId"],
        ),
        (
            "template rule with a source",
            Box::new(|d| d["pricingRules"][0]["sourceId"] = json!("sash")),
            &["pricingRules[0].sourceId"],
        ),
        (
            "impossible size range",
            Box::new(|d| d["dimensions"]["minWidth"] = json!(5000)),
            &["dimensions.minWidth"],
        ),
        (
            "duplicate component id",
            Box::new(|d| d["components"][1]["id"] = d["components"][0]["id"].clone()),
            &["components[1].id", "pricingRules[2].sourceId"],
        ),
        (
            "negative price",
            Box::new(|d| d["pricingRules"][2]["unitPrice"] = json!(-1)),
            &["pricingRules[2].unitPrice"],
        ),
        ("bad colour", Box::new(|d| d["colors"][0]["hex"] = json!("white")), &["colors[0].hex"]),
        (
            "no components",
            Box::new(|d| {
                d["components"] = json!([]);
            }),
            &["components", "pricingRules[1].sourceId", "pricingRules[2].sourceId"],
        ),
        (
            "default out of range",
            Box::new(|d| d["defaultConfiguration"]["width"] = json!(9000)),
            &["defaultConfiguration.width"],
        ),
        ("slug differs from path", Box::new(|d| d["slug"] = json!("other-slug")), &["slug"]),
        (
            "wrong type",
            Box::new(|d| d["dimensions"]["maxWidth"] = json!("wide")),
            &["dimensions.maxWidth"],
        ),
        ("unknown field", Box::new(|d| d["colours"] = json!([])), &["colours"]),
        (
            "several at once",
            Box::new(|d| {
                d["options"][2]["code"] = d["options"][0]["code"].clone();
                d["pricingRules"][3]["sourceId"] = json!("ghost");
                d["components"][1]["dimensions"]["minHeight"] = json!(0);
            }),
            &["options[2].code", "components[1].dimensions.minHeight", "pricingRules[3].sourceId"],
        ),
    ];
    for (what, breakage, expected) in breakages {
        let mut broken = valid.clone();
        breakage(&mut broken);
        let (status, body) = put_template(&app, "tilt-turn-window", &broken).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed", "{what}");
        assert_eq!(error_paths(&body), *expected, "{what}: {body}");
    }
    // Nothing of it was stored.
    let (_, template) = app.get("/api/v1/templates/tilt-turn-window").await;
    assert_eq!(template["version"], 1);
    // The valid definition as it is changes nothing; read-only keys cannot write.
    let (status, same) = put_template(&app, "tilt-turn-window", &valid).await;
    assert_eq!((status, same["version"].as_i64()), (StatusCode::OK, Some(1)), "{same}");
    let path = "/api/v1/templates/tilt-turn-window";
    let (status, _) = app.call(Method::PUT, path, Some(&app.seeded.read_key), Some(&valid)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(Method::PUT, path, Some(&app.seeded.free_key), Some(&valid)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the Free plan has no API access");
}

/// What is broken, how, and the paths the refusal must name.
type Breakage = (&'static str, Box<dyn Fn(&mut Value)>, &'static [&'static str]);

/// Doubles the sash's price per square metre.
fn dearer(mut definition: Value) -> Value {
    let rules = definition["pricingRules"].as_array_mut().unwrap();
    let sash = rules.iter_mut().find(|rule| rule["sourceId"] == "sash").expect("the sash rule");
    sash["unitPrice"] = json!(420.0);
    sash["description"] = json!("Tilt & turn sash (2027 prices)");
    definition["components"][0]["name"] = json!("Tilt & turn sash, renamed");
    definition
}

async fn an_open_session_keeps_its_template_version_until_it_changes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let before = app.open_session("tilt-turn-window").await;
    let submitted_early = app.open_session("tilt-turn-window").await;
    let customer = json!({"customer": {"name": "Anna Early", "email": "anna@example.com"}});
    let early = app.submit_session(&submitted_early, &customer).await;
    let subtotal = before["pricing"]["subtotal"].clone();

    let (status, replaced) =
        put_template(&app, "tilt-turn-window", &dearer(definition(&app, "tilt-turn-window").await))
            .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["id"], before["templateId"], "a new version keeps the template's id");

    // Untouched, the session keeps the price it showed.
    let session_path =
        format!("/public/v1/configuration-sessions/{}", before["id"].as_str().unwrap());
    let (_, still) = app.call(Method::GET, &session_path, None, None).await;
    assert_eq!(still["pricing"]["subtotal"], subtotal);
    // Sending the same configuration is no change either.
    let change_path = format!("{session_path}/configuration");
    let same = json!({"configuration": before["configuration"]});
    let (status, unchanged) = app.call(Method::PUT, &change_path, None, Some(&same)).await;
    assert_eq!(status, StatusCode::OK, "{unchanged}");
    assert_eq!(unchanged["subtotal"], subtotal);
    assert!(unchanged.get("catalogUpdate").is_none(), "{unchanged}");

    // A change moves it to version 2, and the price says so.
    let mut configuration = before["configuration"].clone();
    configuration["height"] = json!(1500);
    configuration["components"][0]["height"] = json!(1500);
    configuration["components"][1]["height"] = json!(1500);
    let (status, moved) = app
        .call(Method::PUT, &change_path, None, Some(&json!({"configuration": configuration})))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let (_, current) = app
        .post(
            "/api/v1/templates/tilt-turn-window/pricing",
            &json!({"configuration": configuration}),
        )
        .await;
    assert_eq!(moved["subtotal"], current["basePricing"]["subtotal"], "priced with version 2");
    assert_eq!(moved["catalogUpdate"]["fromVersion"], 1, "{moved}");
    assert_eq!(moved["catalogUpdate"]["toVersion"], 2);
    let old_base = moved["catalogUpdate"]["previousBaseSubtotal"].as_f64().unwrap();
    assert!(old_base < moved["subtotal"].as_f64().unwrap(), "{moved}");

    // A submission made before keeps describing what the customer saw (version 1).
    let (_, kept) =
        app.get(&format!("/api/v1/submissions/{}", early["id"].as_str().unwrap())).await;
    let names: Vec<&str> = kept["resolvedConfiguration"]["componentSelections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["componentName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Tilt & turn sash"), "{names:?}");
    // One submitted now has version 2's words.
    let later = app.submit_session(&before, &customer).await;
    let (_, fresh) =
        app.get(&format!("/api/v1/submissions/{}", later["id"].as_str().unwrap())).await;
    let first = &fresh["resolvedConfiguration"]["componentSelections"][0]["componentName"];
    assert_eq!(first, "Tilt & turn sash, renamed");
}

async fn a_deleted_template_leaves_the_catalog_but_not_its_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let session = app.open_session("french-door-sidelights").await;
    let delete = || {
        let path = "/api/v1/templates/french-door-sidelights";
        app.call(Method::DELETE, path, Some(&app.seeded.key), None)
    };
    assert_eq!(delete().await.0, StatusCode::NO_CONTENT);
    assert_eq!(delete().await.0, StatusCode::NOT_FOUND, "deleted once");
    let (_, list) = app.get("/api/v1/templates").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let (status, _) = app.get("/api/v1/templates/french-door-sidelights").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, public) =
        app.call(Method::GET, "/public/v1/orgs/window-works/templates", None, None).await;
    assert!(public.as_array().unwrap().iter().all(|t| t["slug"] != "french-door-sidelights"));
    let body = json!({"templateSlug": "french-door-sidelights"});
    let (status, _) = app
        .call(
            Method::POST,
            "/public/v1/orgs/window-works/configuration-sessions",
            None,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no new session on a deleted template");

    // The open session still changes and submits.
    let mut configuration = session["configuration"].clone();
    configuration["width"] = json!(2700);
    configuration["components"][4]["width"] = json!(2700);
    let path = format!(
        "/public/v1/configuration-sessions/{}/configuration",
        session["id"].as_str().unwrap()
    );
    let (status, pricing) =
        app.call(Method::PUT, &path, None, Some(&json!({"configuration": configuration}))).await;
    assert_eq!(status, StatusCode::OK, "{pricing}");
    app.submit_session(
        &session,
        &json!({"customer": {"name": "Bo Late", "email": "bo@example.com"}}),
    )
    .await;

    // Putting the slug again brings it back as a new version.
    let mut definition = winfactor::demo::catalog_file().templates.swap_remove(2);
    definition.name = "French Door with Sidelights (new)".into();
    let (status, back) =
        put_template(&app, "french-door-sidelights", &serde_json::to_value(&definition).unwrap())
            .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(
        (back["version"].as_i64(), back["id"].clone()),
        (Some(2), session["templateId"].clone())
    );
}

async fn a_disabled_organisation_is_refused_everywhere_and_its_deliveries_wait(backend: Backend) {
    let app = with_operator(backend, |config| {
        config.delivery.retry_schedule =
            winfactor::outbox::RetrySchedule(vec![Duration::from_millis(100); 40]);
    })
    .await;
    let receiver = Receiver::scripted(|_, _| Reply::status(503)).await;
    let key = app.seeded.rival_key.clone();
    let body = json!({"url": receiver.url, "events": ["lead.created"]});
    let (status, _) = app.call(Method::POST, "/api/v1/webhooks", Some(&key), Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let lead = json!({"name": "Lea Rival", "email": "lea@example.com", "message": "A door please"});
    let (status, _) =
        app.call(Method::POST, "/public/v1/orgs/rival-glazing/leads", None, Some(&lead)).await;
    assert_eq!(status, StatusCode::CREATED);
    receiver.wait_for(1, Duration::from_secs(10)).await;

    let (status, org) =
        operator(&app, Method::POST, "/admin/v1/orgs/rival-glazing/disable", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(org["disabledAt"].is_i64(), "{org}");
    let (status, refused) = app.call(Method::GET, "/api/v1/organization", Some(&key), None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("organization_disabled"))
    );
    for path in ["/configurator/rival-glazing", "/public/v1/orgs/rival-glazing/templates"] {
        let (status, _) = app.call(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) =
        app.call(Method::POST, "/public/v1/orgs/rival-glazing/leads", None, Some(&lead)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The demo organisation is untouched.
    assert_eq!(app.get("/api/v1/organization").await.0, StatusCode::OK);

    // The receiver recovers, but nothing goes to it while the organisation is disabled.
    receiver.rescript(|_, _| Reply::ok());
    tokio::time::sleep(Duration::from_millis(300)).await; // an attempt already in flight
    let seen = receiver.received().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), seen, "deliveries wait while disabled");
    assert_eq!(app.count("deliveries WHERE status = 'pending'").await, 1, "not spent, not lost");

    let (status, _) =
        operator(&app, Method::POST, "/admin/v1/orgs/rival-glazing/enable", None).await;
    assert_eq!(status, StatusCode::OK);
    let delivered = receiver.wait_for(seen + 1, Duration::from_secs(10)).await;
    assert_eq!(delivered.last().unwrap().json()["eventType"], "lead.created");
    assert_eq!(
        app.call(Method::GET, "/api/v1/organization", Some(&key), None).await.0,
        StatusCode::OK
    );
}
