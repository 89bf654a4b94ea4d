//! `winfactor plugin new|sample-request|deploy`: the author's workflow. `new` scaffolds a
//! plugin project in Rust, Python or JavaScript (the plugin, a unit test, a sample request,
//! the build command); `sample-request` prints a realistic `pricing.calculated` request;
//! `deploy` uploads a component to a running service, follows its compilation, shows the
//! figures against the limits and activates it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::catalog::{Template, base_pricing, config_hash};

/// The languages `plugin new` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// The Rust SDK (`sdk/`), built with cargo for wasm32-wasip2.
    Rust,
    /// The Python kit (`sdk/python`), built with componentize-py.
    Python,
    /// The JavaScript kit (`sdk/js`), built with componentize-js.
    Js,
}

/// Where the kits live: `--sdk`, else `WINFACTOR_SDK`, else this build's source tree.
pub fn sdk_dir(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os("WINFACTOR_SDK").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk"))
}

/// A `pricing.calculated` request (its `data`, with the organisation) for the default
/// configuration of `template` — the one named `slug` among `templates`, else the first.
pub fn sample_request(templates: &[Template], slug: Option<&str>) -> anyhow::Result<Value> {
    let template = match slug {
        Some(slug) => templates.iter().find(|t| t.slug == slug).with_context(|| {
            let known: Vec<&str> = templates.iter().map(|t| t.slug.as_str()).collect();
            format!("no template `{slug}` (known: {})", known.join(", "))
        })?,
        None => templates.first().context("no template")?,
    };
    let configuration = &template.default_configuration;
    Ok(json!({
        "context": "live",
        "organization": {"id": "org_sample", "name": "Window Works Inc", "locale": "en-US",
                         "currency": "EUR", "unitSystem": "metric"},
        "session": {"id": "cs_sample", "origin": "configurator"},
        "template": {"id": template.id, "name": template.name, "slug": template.slug},
        "configuration": configuration,
        "configHash": config_hash(configuration),
        "submission": null,
        "basePricing": base_pricing(template, configuration, "EUR"),
    }))
}

/// Scaffolds plugin `name` in the new directory `dir`: the plugin (a delivery fee, free
/// above a threshold), a unit test on `sample-request.json`, and the build. Returns what
/// to run next.
pub fn new_project(
    dir: &Path,
    name: &str,
    language: Language,
    sdk: &Path,
    sample: &Value,
) -> anyhow::Result<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("the name may hold letters, digits, `-` and `_` only");
    }
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk = sdk.canonicalize().with_context(|| format!("no SDK at {}", sdk.display()))?;
    let wit = sdk.join("../wit").canonicalize().context("no wit/ beside the SDK")?;
    let files = match language {
        Language::Rust => rust_files(name, &sdk),
        Language::Python => python_files(name, &sdk, &wit),
        Language::Js => js_files(name, &sdk),
    };
    std::fs::create_dir_all(dir)?;
    if language == Language::Rust {
        std::fs::create_dir(dir.join("src"))?;
    }
    std::fs::write(dir.join("sample-request.json"), serde_json::to_string_pretty(sample)?)?;
    if language == Language::Js {
        let kit = dir.join("winfactor");
        std::fs::create_dir(&kit)?;
        for entry in std::fs::read_dir(sdk.join("js/src"))? {
            let entry = entry?;
            std::fs::copy(entry.path(), kit.join(entry.file_name()))?;
        }
    }
    for (path, text) in &files {
        std::fs::write(dir.join(path), text)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("build.sh"), std::fs::Permissions::from_mode(0o755))?;
    }
    let test = match language {
        Language::Rust => "cargo test",
        Language::Python => "python3 -m pytest -q",
        Language::Js => "node --test",
    };
    Ok(format!(
        "created {dir}: test with `{test}`, build with `./build.sh` ({name}.wasm), then \
         `winfactor plugin deploy {name}.wasm --name {name} --activate`\n",
        dir = dir.display()
    ))
}

const DELIVERY_NOTE: &str = "Adds a delivery fee, free above a threshold. Settings: \
                             {\"fee\": 95, \"freeAbove\": 50000}.";

fn rust_files(name: &str, sdk: &Path) -> Vec<(&'static str, String)> {
    let crate_name = name.replace('-', "_");
    vec![
        (
            "Cargo.toml",
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n[dependencies]\n\
                 winfactor-pricing-sdk = {{ path = \"{sdk}\" }}\n\
                 serde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
                 [profile.release]\nstrip = true\n",
                sdk = sdk.display()
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r##"//! {DELIVERY_NOTE}

use serde::Deserialize;
use winfactor_pricing_sdk::{{Breakdown, Decimal, LineItem, PluginError, PricingPlugin, Request, dec}};

pub struct Plugin;

#[derive(Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {{
    pub fee: Decimal,
    pub free_above: Decimal,
}}

impl Default for Settings {{
    fn default() -> Self {{
        Self {{ fee: dec!(95), free_above: dec!(50000) }}
    }}
}}

impl PricingPlugin for Plugin {{
    type Settings = Settings;

    fn price(request: &Request, settings: &Settings) -> Result<Breakdown, PluginError> {{
        let mut breakdown = Breakdown::from_base(&request.base_pricing);
        if request.base_pricing.subtotal < settings.free_above {{
            breakdown.add(LineItem::new("Delivery", dec!(1), settings.fee).item_type("service"));
        }}
        Ok(breakdown)
    }}
}}

winfactor_pricing_sdk::export_plugin!(Plugin);

#[cfg(test)]
mod tests {{
    use super::*;
    use winfactor_pricing_sdk::testing;

    #[test]
    fn small_orders_pay_delivery() {{
        let request = testing::request_from_event(include_str!("../sample-request.json")).unwrap();
        let priced = testing::price::<Plugin>(&request, r#"{{"freeAbove": 1000000}}"#).unwrap();
        assert_eq!(priced.subtotal(), request.base_pricing.subtotal + dec!(95));
    }}
}}
"##
            ),
        ),
        (
            "build.sh",
            format!(
                "#!/bin/sh\n# Builds {name}.wasm.\nset -e\ncargo build --quiet --release --target wasm32-wasip2\n\
                 cp \"${{CARGO_TARGET_DIR:-target}}/wasm32-wasip2/release/{crate_name}.wasm\" {name}.wasm\n"
            ),
        ),
    ]
}

fn python_files(name: &str, sdk: &Path, wit: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "app.py",
            format!(
                r#""""{DELIVERY_NOTE}"""

from decimal import Decimal

from winfactor_pricing import Breakdown, LineItem, Plugin, component


class Delivery(Plugin):
    def settings(self, settings):
        parsed = (settings.decimal("fee", Decimal(95)), settings.decimal("freeAbove", Decimal(50000)))
        settings.done()
        return parsed

    def price(self, request, settings):
        fee, free_above = settings
        breakdown = Breakdown.from_base(request.base_pricing)
        if request.base_pricing.subtotal < free_above:
            breakdown.add(LineItem("Delivery", Decimal(1), fee, item_type="service"))
        return breakdown


WitWorld = component(Delivery)
"#
            ),
        ),
        (
            "test_app.py",
            r#"import json
from pathlib import Path

from winfactor_pricing import testing

from app import Delivery


def test_small_orders_pay_delivery():
    request = testing.request_from_event(json.loads(Path(__file__).with_name("sample-request.json").read_text()))
    breakdown = Delivery().run(request, '{"freeAbove": 1000000}')
    assert breakdown.subtotal() == request.base_pricing.subtotal + 95
"#
            .to_owned(),
        ),
        (
            "conftest.py",
            format!(
                "# Lets pytest import the kit without installing it.\nimport sys\n\n\
                 sys.path.insert(0, {:?})\n",
                sdk.join("python").display().to_string()
            ),
        ),
        (
            "build.sh",
            format!(
                "#!/bin/sh\n# Builds {name}.wasm with componentize-py (pip install componentize-py==0.25.1).\n\
                 set -e\ncd \"$(dirname \"$0\")\"\ncomponentize-py -d {wit:?} -w pricing-plugin componentize app \
                 -p . -p {py:?} -o {name}.wasm\n",
                wit = wit.display().to_string(),
                py = sdk.join("python").display().to_string()
            ),
        ),
    ]
}

fn js_files(name: &str, sdk: &Path) -> Vec<(&'static str, String)> {
    // The project carries a copy of the kit (`winfactor/`): componentize-js reads modules
    // from the project's directory only.
    let kit = "./winfactor/index.js";
    let testing = "./winfactor/testing.js";
    vec![
        ("package.json", "{\"type\": \"module\"}\n".to_owned()),
        (
            "plugin.js",
            format!(
                r#"// {DELIVERY_NOTE}

import {{ Breakdown, LineItem, Plugin }} from '{kit}';

export default class Delivery extends Plugin {{
  settings(settings) {{
    const parsed = {{ fee: settings.decimal('fee', 95n), freeAbove: settings.decimal('freeAbove', 50000n) }};
    settings.done();
    return parsed;
  }}

  price(request, settings) {{
    const breakdown = Breakdown.fromBase(request.basePricing);
    if (request.basePricing.subtotal.lt(settings.freeAbove)) {{
      breakdown.add(new LineItem('Delivery', 1n, settings.fee, {{ itemType: 'service' }}));
    }}
    return breakdown;
  }}
}}
"#
            ),
        ),
        (
            "plugin.test.js",
            format!(
                r#"import assert from 'node:assert/strict';
import {{ readFileSync }} from 'node:fs';
import {{ test }} from 'node:test';

import {{ requestFromEvent }} from '{testing}';
import Delivery from './plugin.js';

test('small orders pay delivery', () => {{
  const request = requestFromEvent(JSON.parse(readFileSync(new URL('./sample-request.json', import.meta.url), 'utf8')));
  const breakdown = new Delivery().run(request, '{{"freeAbove": 1000000}}');
  assert.equal(breakdown.subtotal().toWire(), request.basePricing.subtotal.plus(95n).toWire());
}});
"#
            ),
        ),
        (
            "build.sh",
            format!(
                "#!/bin/sh\n# Builds {name}.wasm with componentize-js (npm ci in the kit's directory first).\n\
                 set -e\ncd \"$(dirname \"$0\")\"\nnode {build:?} plugin.js -o {name}.wasm\n",
                build = sdk.join("js/build.js").display().to_string()
            ),
        ),
    ]
}

/// Where and as whom `deploy` talks to the service.
pub struct Service {
    /// Base URL, e.g. `http://localhost:8080`.
    pub url: String,
    /// A read-write API key of the organisation.
    pub key: String,
}

/// Uploads `file` as version `name` with `settings`, waits for its compilation (showing
/// queue position and status as they change), dry-runs it on `sample` and shows the
/// figures against the limits, then activates it if asked. Fails if the upload is refused
/// or the compilation fails.
pub async fn deploy(
    service: &Service,
    file: &Path,
    name: &str,
    settings: &str,
    activate: bool,
    sample: &Value,
) -> anyhow::Result<()> {
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let settings: Value = serde_json::from_str(settings).context("--settings is not JSON")?;
    let client = reqwest::Client::new();
    let base = service.url.trim_end_matches('/');
    let call = |method: reqwest::Method, path: String| {
        client.request(method, format!("{base}{path}")).bearer_auth(&service.key)
    };
    println!("uploading {} ({} bytes) as `{name}`", file.display(), wasm.len());
    let response = call(reqwest::Method::POST, "/api/v1/pricing-plugins".into())
        .query(&[("name", name), ("settings", &settings.to_string())])
        .header("content-type", "application/wasm")
        .body(wasm.clone())
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?;
    let version = answer(response).await.context("upload refused")?;
    let id = version["id"].as_str().context("no version id in the answer")?.to_owned();
    let started = Instant::now();
    let mut shown = String::new();
    let version = loop {
        let response =
            call(reqwest::Method::GET, format!("/api/v1/pricing-plugins/{id}")).send().await?;
        let version = answer(response).await?;
        let status = version["status"].as_str().unwrap_or_default().to_owned();
        let now = match version["queuePosition"].as_u64() {
            Some(position) if status == "queued" => format!("queued (position {position})"),
            _ => status.clone(),
        };
        if now != shown {
            println!("{id}: {now} after {:.1} s", started.elapsed().as_secs_f64());
            shown = now;
        }
        if status != "queued" && status != "compiling" {
            break version;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    if version["status"] != "ready" {
        bail!("compilation failed: {}", version["error"].as_str().unwrap_or("no reason given"));
    }
    let path = format!("/api/v1/pricing-plugins/{id}/dry-run");
    let run = call(reqwest::Method::POST, path).json(&json!({ "event": sample })).send().await?;
    let run = answer(run).await.context("dry-run")?;
    print!("{}", figures(wasm.len(), &version, &run)?);
    if activate {
        let path = format!("/api/v1/pricing-plugins/{id}/activate");
        answer(call(reqwest::Method::POST, path).send().await?).await.context("activation")?;
        println!("{id} is active: it prices every configuration change from now on");
    }
    Ok(())
}

/// The JSON of a successful answer, or the service's error.
async fn answer(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let error = &body["error"];
        let details = error["details"]["errors"]
            .as_array()
            .map(|errors| {
                errors.iter().filter_map(|e| e["message"].as_str()).collect::<Vec<_>>().join("; ")
            })
            .unwrap_or_default();
        bail!("{status}: {} {details}", error["message"].as_str().unwrap_or_default());
    }
    Ok(body)
}

fn figures(size: usize, version: &Value, run: &Value) -> anyhow::Result<String> {
    let limits = &run["limits"];
    let mib = |bytes: f64| bytes / f64::from(1 << 20);
    let number = |value: &Value| value.as_f64().unwrap_or_default();
    let mut out = String::new();
    writeln!(
        out,
        "size          {:>9.1} MiB   limit {:>7.1} MiB",
        mib(size as f64),
        mib(number(&limits["uploadBytes"]))
    )?;
    if let Some(ms) = version["compileMs"].as_i64() {
        writeln!(out, "compile       {:>9.1} s", ms as f64 / 1000.0)?;
    }
    writeln!(out, "sample run    {}", run["outcome"].as_str().unwrap_or("?"))?;
    writeln!(
        out,
        "duration      {:>9.2} ms    limit {:>7} ms",
        number(&run["durationUs"]) / 1000.0,
        limits["budgetMs"]
    )?;
    writeln!(
        out,
        "peak memory   {:>9.1} MiB   limit {:>7.1} MiB",
        mib(number(&run["peakMemoryBytes"])),
        mib(number(&limits["memoryBytes"]))
    )?;
    writeln!(
        out,
        "output        {:>9.1} KiB   limit {:>7.1} KiB",
        number(&run["outputBytes"]) / 1024.0,
        number(&limits["outputBytes"]) / 1024.0
    )?;
    if let Some(error) = run["error"].as_str() {
        writeln!(out, "sample run error: {error}")?;
    }
    Ok(out)
}
