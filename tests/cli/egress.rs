//! What leaves the real binary: webhooks never through a proxy named in the environment.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use winfactor_tests::{Backend, Proxy, Receiver, TestDatabase, backend_tests};

use super::{BIN, serve_with_env};

backend_tests!(deliveries_ignore_proxies_in_the_environment);

/// `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (both spellings) point at a real proxy: it
/// receives nothing, while the deliveries reach the receiver directly.
async fn deliveries_ignore_proxies_in_the_environment(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let proxy = Proxy::start().await;
    let receiver = Receiver::start().await;
    let names =
        ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"];
    let mut env: Vec<(&str, &str)> = names.iter().map(|name| (*name, proxy.url.as_str())).collect();
    // Nothing exempt: an inherited `NO_PROXY=127.0.0.1` would hide the proxy's use.
    env.extend([("NO_PROXY", ""), ("no_proxy", "")]);
    let flags = ["--allow-private-webhook-targets", "true"];
    let (running, output) = serve_with_env(Path::new(BIN), &database.url, &flags, &env).await;
    let key = String::from_utf8(output).unwrap().lines().last().unwrap().trim().to_owned();
    let api = Api { client: reqwest::Client::new(), base: running.base.clone(), key };

    let body = json!({"url": receiver.url, "events": ["lead.created"]});
    let (status, webhook) = api.post("/api/v1/webhooks", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let lead = json!({"name": "Env", "email": "env@example.com", "message": "Proxied?"});
    let (status, _) = api.post("/public/v1/orgs/window-works/leads", &lead).await;
    assert_eq!(status, StatusCode::CREATED);
    let test = format!("/api/v1/webhooks/{}/test", webhook["id"].as_str().unwrap());
    let (status, result) = api.post(&test, &json!({})).await;
    assert_eq!((status, result["delivered"].clone()), (StatusCode::OK, json!(true)), "{result}");
    receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(proxy.seen(), Vec::<String>::new(), "nothing goes through the environment's proxy");
    running.terminate();
}

/// The demo organisation's API on a running binary.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                (status, response.json().await.unwrap_or(Value::Null))
            }
            // The process was killed under this request.
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Value::Null),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}
