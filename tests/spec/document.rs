//! The document itself: valid OpenAPI 3.1 by an independent validator, and route for route
//! the router's table.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use winfactor_tests::{Backend, TestApp};

use crate::common::{operations, run, served_document, shape};

/// Routes the service answers that the document leaves out on purpose, with why.
const OUTSIDE_THE_DOCUMENT: &[(&str, &str, &str)] = &[
    ("GET", "/", "a page for people: a link to the demo configurator"),
    ("GET", "/configurator/{}", "the configurator page (HTML, CSS, JS) for browsers"),
    ("GET", "/healthz", "liveness probe for orchestrators, plain text"),
    ("GET", "/readyz", "readiness probe for orchestrators, plain text"),
    ("GET", "/metrics", "Prometheus text for scrapers (docs/operations.md)"),
    ("GET", "/openapi.json", "the document itself"),
    ("GET", "/openapi.yaml", "the document itself"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_valid_openapi_3_1() {
    let app = TestApp::start(Backend::Sqlite).await;
    let response = app.client.get(app.url("/openapi.yaml")).send().await.expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    let yaml = response.text().await.expect("the YAML");
    assert!(yaml.starts_with("openapi: 3.1"), "{}", &yaml[..yaml.len().min(200)]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("openapi.yaml"), &yaml).expect("writing the document");
    let args = ["--schema", "3.1", "--validation-errors", "all", "openapi.yaml"];
    let said = run("openapi-spec-validator", &args, &[], dir.path()).await;
    assert!(said.contains("OK"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_in_the_document_and_every_operation_is_routed() {
    let routed = router_routes();
    assert!(routed.contains(&("GET".into(), "/api/v1/organization".into())), "{routed:?}");
    assert!(routed.len() > 50, "the router's table was not read: {routed:?}");

    let app = TestApp::start(Backend::Sqlite).await;
    let documented: BTreeSet<(String, String)> = operations(&served_document(&app).await)
        .into_iter()
        .map(|op| (op.method.to_string(), shape(&op.path)))
        .collect();
    let outside: BTreeSet<(String, String)> =
        OUTSIDE_THE_DOCUMENT.iter().map(|(m, p, _)| ((*m).into(), (*p).into())).collect();

    let undocumented: Vec<_> =
        routed.difference(&documented).filter(|r| !outside.contains(*r)).collect();
    assert!(undocumented.is_empty(), "routed but not in the document: {undocumented:?}");
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(unrouted.is_empty(), "in the document but not routed: {unrouted:?}");
    let stale: Vec<_> =
        outside.iter().filter(|r| !routed.contains(*r) || documented.contains(*r)).collect();
    assert!(stale.is_empty(), "listed as outside the document but not (only) routed: {stale:?}");

    // The routes outside the document answer (a stale list cannot hide a removed route).
    for (method, path, why) in OUTSIDE_THE_DOCUMENT {
        let path = path.replace("{}", "window-works");
        let method: Method = method.parse().expect("a method");
        let response = app.client.request(method, app.url(&path)).send().await.expect("an answer");
        assert_eq!(response.status(), StatusCode::OK, "{path} ({why})");
    }
}

/// `(METHOD, shape)` of every route in the service's router, read from its table (axum
/// shows each path and each method router's `Allow` header in its `Debug` output; if that
/// format changes, this fails rather than passes).
fn router_routes() -> BTreeSet<(String, String)> {
    let (router, _) = winfactor::server::routes();
    let text = format!("{router:?}");
    let table = text
        .split_once("path_router: PathRouter {")
        .and_then(|(_, rest)| rest.split_once("fallback_router:"))
        .map(|(table, _)| table)
        .expect("axum's router Debug output has its path router");
    let (endpoints, nodes) = table.split_once("node: Node").expect("the path router's node");
    let mut methods = std::collections::BTreeMap::new();
    for chunk in endpoints.split("RouteId(").skip(1) {
        let (id, rest) = chunk.split_once(')').expect("a route id");
        let allow = rest
            .split_once("allow_header: Bytes(b\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(allow, _)| allow)
            .unwrap_or_else(|| {
                panic!("route {id} is not a method router with an Allow header: {rest}")
            });
        methods.insert(id.to_owned(), allow.to_owned());
    }
    let mut routes = BTreeSet::new();
    for chunk in nodes.split("RouteId(").skip(1) {
        let (id, rest) = chunk.split_once(')').expect("a route id");
        let path = rest.split('"').nth(1).expect("a quoted path");
        let allow = methods.get(id).unwrap_or_else(|| panic!("no methods for {path}"));
        for method in allow.split(',').filter(|m| *m != "HEAD") {
            routes.insert((method.to_owned(), shape(path)));
        }
    }
    routes
}
