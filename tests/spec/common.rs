//! What the spec suites share: the served document, its operations, and running the Python
//! tools against a server.

use std::path::Path;
use std::process::Stdio;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use winfactor_tests::TestApp;

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Its method.
    pub method: Method,
    /// The path template, e.g. `/api/v1/quotes/{id}`.
    pub path: String,
    /// The operation object.
    pub spec: Value,
}

impl Operation {
    /// `GET /api/v1/quotes/{id}`
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Whether the operation takes the document's bearer security (an API key or, under
    /// `/admin/v1`, the operator token) rather than its own empty one.
    pub fn keyed(&self) -> bool {
        self.spec.get("security").is_none()
    }
}

/// The document the server serves at `/openapi.json`.
pub async fn served_document(app: &TestApp) -> Value {
    let (status, document) = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK, "{document}");
    document
}

/// Every operation of `document`, in its order.
pub fn operations(document: &Value) -> Vec<Operation> {
    let paths = document["paths"].as_object().expect("the document has paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for (method, spec) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else { continue };
            if spec.get("responses").is_some() {
                found.push(Operation { method, path: path.clone(), spec: spec.clone() });
            }
        }
    }
    found
}

/// `/a/{x}/b/{y}` with every parameter replaced by `{}`: how the router and the document
/// are compared (the router's parameter names need not be the document's).
pub fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Runs `program args…` with `envs`, its output captured; panics with both streams unless it
/// exits 0. Returns stdout.
pub async fn run(program: &str, args: &[&str], envs: &[(&str, &str)], cwd: &Path) -> String {
    let output = tokio::process::Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|err| {
            panic!("{program} could not start ({err}): tests/run.sh installs the Python tools")
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

#[test]
fn shapes_ignore_parameter_names() {
    assert_eq!(shape("/api/v1/quotes/{id}/versions/{version}"), "/api/v1/quotes/{}/versions/{}");
    assert_eq!(shape("/healthz"), "/healthz");
}
