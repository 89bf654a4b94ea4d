//! Pricing plugin helpers: the built first-party and hostile components, upload, wait
//! for compilation, activation.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use winfactor::orgs::{Plan, Scope, UnitSystem};
use winfactor::store::NewOrg;

use crate::TestApp;

/// Where `tests/run.sh` puts the components built for `wasm32-wasip2` (overridable with
/// `WINFACTOR_PLUGIN_DIR`).
pub fn plugin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WINFACTOR_PLUGIN_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("guest/wasm32-wasip2/release")
}

/// The component built from `plugins/<crate>` (`margin`, `glass-area`, `hostile-spin`, …).
pub fn plugin_wasm(crate_name: &str) -> Vec<u8> {
    let path = plugin_dir().join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err}. Build the plugins first: tests/run.sh does, or `cargo build --release \
             --target wasm32-wasip2 --manifest-path plugins/Cargo.toml --target-dir <target>/guest`",
            path.display()
        )
    })
}

/// Slug of the organisation [`TestApp::imperial_org`] creates.
pub const IMPERIAL_ORG_SLUG: &str = "frontier-windows";

impl TestApp {
    /// An imperial-market organisation (USD, feet and inches) with the demo catalog; returns
    /// a read-write key of it.
    pub async fn imperial_org(&self) -> String {
        let org = self
            .store
            .insert_org(&NewOrg {
                slug: IMPERIAL_ORG_SLUG.into(),
                name: "Frontier Windows".into(),
                email: "sales@frontier.example".into(),
                phone: None,
                logo_url: None,
                locale: "en-US".into(),
                currency: "USD".into(),
                unit_system: UnitSystem::Imperial,
                plan: Plan::Pro,
                pricing_timeout_ms: 10_000,
            })
            .await
            .unwrap();
        for template in winfactor::demo::catalog() {
            self.store.insert_template(&org.id, &template).await.unwrap();
        }
        self.store.create_api_key(&org.id, "imperial", Scope::ReadWrite).await.unwrap().secret
    }

    /// Uploads raw component bytes for the org of `key`; returns status and body.
    pub async fn upload_plugin_as(
        &self,
        key: &str,
        name: &str,
        wasm: &[u8],
        settings: &Value,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/api/v1/pricing-plugins"))
            .bearer_auth(key)
            .query(&[("name", name), ("settings", &settings.to_string())])
            .header("content-type", "application/wasm")
            .body(wasm.to_vec())
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Polls a version until it is compiled (`ready` or `failed`); returns it.
    pub async fn compiled_plugin_as(&self, key: &str, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let path = format!("/api/v1/pricing-plugins/{id}");
            let (status, version) = self.call(reqwest::Method::GET, &path, Some(key), None).await;
            assert_eq!(status, StatusCode::OK, "{version}");
            if version["status"] != "queued" && version["status"] != "compiling" {
                return version;
            }
            assert!(Instant::now() < deadline, "not compiled yet: {version}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Uploads a first-party or hostile plugin for the demo org, waits until it is ready,
    /// activates it; returns its id.
    pub async fn activate_plugin(&self, crate_name: &str, settings: &Value) -> String {
        self.activate_plugin_as(&self.seeded.key.clone(), crate_name, settings).await
    }

    /// [`TestApp::activate_plugin`] for the org of `key`.
    pub async fn activate_plugin_as(
        &self,
        key: &str,
        crate_name: &str,
        settings: &Value,
    ) -> String {
        let (status, version) =
            self.upload_plugin_as(key, crate_name, &plugin_wasm(crate_name), settings).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{version}");
        let id = version["id"].as_str().unwrap().to_owned();
        let version = self.compiled_plugin_as(key, &id).await;
        assert_eq!(version["status"], "ready", "{version}");
        let path = format!("/api/v1/pricing-plugins/{id}/activate");
        let (status, active) = self.call(reqwest::Method::POST, &path, Some(key), None).await;
        assert_eq!(status, StatusCode::OK, "{active}");
        assert_eq!(active["active"], true);
        id
    }
}

/// A `pricing.calculated` data payload for the demo lift-slide door, as a webhook would
/// receive it (for `winfactor plugin run --input` and dry-runs).
pub fn sample_event() -> Value {
    let template = winfactor::demo::catalog()
        .into_iter()
        .find(|t| t.slug == "2-panel-lift-slide")
        .expect("the demo lift-slide door");
    let configuration = template.default_configuration.clone();
    serde_json::json!({
        "context": "live",
        "session": {"id": "cs_example", "origin": "configurator"},
        "template": {"id": template.id, "name": template.name, "slug": template.slug},
        "configuration": configuration,
        "configHash": winfactor::catalog::config_hash(&configuration),
        "submission": null,
        "basePricing": winfactor::catalog::base_pricing(&template, &configuration, "EUR"),
    })
}
