//! Unit-test a plugin natively: build requests without Wasm and call the trait directly.
//!
//! ```
//! use winfactor_pricing_sdk::{Context, UnitSystem, testing};
//! let request = testing::sample_request()
//!     .with_context(Context::Submission)
//!     .with_unit_system(UnitSystem::Imperial);
//! assert_eq!(request.organization.unit_system, UnitSystem::Imperial);
//! ```

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::{
    BaseItem, BasePricing, Component, Configuration, Context, Dimensions, Organization,
    PluginError, PricingPlugin, Request, Session, Template, UnitSystem, round_money,
};

/// A 2-panel lift-slide door, 3000 × 2200 mm, priced like the demo organisation's template:
/// frame per m², glass per m² of each panel, a handle option and installation.
pub fn sample_request() -> Request {
    let size = Dimensions::mm(3000, 2200);
    let panel = Dimensions::mm(1500, 2200);
    let glass = panel.area_m2() * Decimal::TWO;
    let items = vec![
        base_item("template:frame:tpl_lift", "Lift-slide frame", size.area_m2(), 310, "door", 0),
        base_item("component:glass:panel", "Triple glazing", glass, 95, "glass", 10),
        base_item("option:handle:premium", "Premium handle", Decimal::ONE, 120, "hardware", 20),
        base_item("template:install:tpl_lift", "Installation", Decimal::ONE, 450, "labor", 30),
    ];
    let components = ["panel-left", "panel-right"]
        .into_iter()
        .map(|id| Component {
            component_id: id.to_owned(),
            size: panel,
            selected_options: vec!["premium-handle".to_owned()],
        })
        .collect();
    Request {
        context: Context::Live,
        organization: Organization {
            id: "org_sample".into(),
            name: "Window Works".into(),
            locale: "de-DE".into(),
            currency: "EUR".into(),
            unit_system: UnitSystem::Metric,
        },
        session: Session { id: "cs_sample".into(), origin: "configurator".into() },
        template: Template {
            id: "tpl_lift".into(),
            name: "2-Panel Lift-Slide".into(),
            slug: "2-panel-lift-slide".into(),
        },
        configuration: Configuration {
            size,
            components,
            inside_color_id: None,
            outside_color_id: None,
        },
        config_hash: "sample".into(),
        base_pricing: BasePricing {
            currency: "EUR".into(),
            subtotal: items.iter().map(|item| item.total).sum(),
            line_items: items,
        },
        submission: None,
    }
}

fn base_item(
    key: &str,
    description: &str,
    quantity: Decimal,
    unit_price: i64,
    item_type: &str,
    sort_offset: i64,
) -> BaseItem {
    let unit_price = Decimal::from(unit_price);
    BaseItem {
        item_key: key.into(),
        description: description.into(),
        quantity,
        unit_price,
        total: round_money(quantity * unit_price),
        item_type: Some(item_type.into()),
        sort_offset,
    }
}

impl Request {
    /// The same request in another context.
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// The same request for an organisation measuring in `unit_system`.
    pub fn with_unit_system(mut self, unit_system: UnitSystem) -> Self {
        self.organization.unit_system = unit_system;
        self
    }
}

/// The request a captured `pricing.calculated` event (the whole envelope or its `data`)
/// makes: unit-test a plugin on what your webhook receiver logged.
///
/// ```
/// let event = r#"{"data": {"context": "submission",
///   "session": {"id": "cs_1", "origin": "api"},
///   "template": {"id": "t", "name": "Door", "slug": "door"},
///   "configuration": {"width": 1000, "height": 2000,
///     "components": [{"componentId": "leaf", "width": 1000, "height": 2000, "selectedOptions": []}]},
///   "configHash": "h", "basePricing": {"currency": "EUR", "subtotal": 10.5, "lineItems": [
///     {"itemKey": "template:a:t", "description": "Door", "quantity": 1, "unitPrice": 10.5, "total": 10.5}]}}}"#;
/// let request = winfactor_pricing_sdk::testing::request_from_event(event).unwrap();
/// assert_eq!(request.configuration.size.area_m2(), winfactor_pricing_sdk::dec!(2));
/// assert_eq!(request.base_pricing.subtotal, winfactor_pricing_sdk::dec!(10.5));
/// ```
pub fn request_from_event(json: &str) -> Result<Request, String> {
    let event: Value = serde_json::from_str(json).map_err(|err| err.to_string())?;
    let data = event.get("data").filter(|d| d.is_object()).unwrap_or(&event);
    let text = |value: &Value, field: &str| -> Result<String, String> {
        value[field].as_str().map(str::to_owned).ok_or(format!("`{field}` is missing"))
    };
    let number = |value: &Value, field: &str| -> Result<Decimal, String> {
        match &value[field] {
            Value::Number(n) => Decimal::from_str(&n.to_string()).map_err(|e| e.to_string()),
            Value::String(s) => Decimal::from_str(s).map_err(|e| e.to_string()),
            _ => Err(format!("`{field}` is not a number")),
        }
    };
    let mm = |value: &Value, field: &str| -> Result<u32, String> {
        value[field].as_u64().and_then(|v| u32::try_from(v).ok()).ok_or(format!("`{field}`"))
    };
    let configuration = &data["configuration"];
    let components = configuration["components"]
        .as_array()
        .ok_or("`components` is missing")?
        .iter()
        .map(|part| {
            Ok(Component {
                component_id: text(part, "componentId")?,
                size: Dimensions::mm(mm(part, "width")?, mm(part, "height")?),
                selected_options: part["selectedOptions"]
                    .as_array()
                    .map(|options| {
                        options
                            .iter()
                            .filter_map(|o| o["optionId"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<_, String>>()?;
    let base = &data["basePricing"];
    let line_items = base["lineItems"]
        .as_array()
        .ok_or("`lineItems` is missing")?
        .iter()
        .map(|item| {
            Ok(BaseItem {
                item_key: text(item, "itemKey")?,
                description: text(item, "description")?,
                quantity: number(item, "quantity")?,
                unit_price: number(item, "unitPrice")?,
                total: number(item, "total")?,
                item_type: item["itemType"].as_str().map(str::to_owned),
                sort_offset: item["sortOffset"].as_i64().unwrap_or(0),
            })
        })
        .collect::<Result<_, String>>()?;
    let org = event.get("organization").unwrap_or(&Value::Null);
    Ok(Request {
        context: match data["context"].as_str() {
            Some("submission") => Context::Submission,
            Some("autofill") => Context::Autofill,
            _ => Context::Live,
        },
        organization: Organization {
            id: org["id"].as_str().unwrap_or_default().to_owned(),
            name: org["name"].as_str().unwrap_or_default().to_owned(),
            locale: event["orgLocale"].as_str().unwrap_or("en-US").to_owned(),
            currency: text(base, "currency")?,
            unit_system: UnitSystem::Metric,
        },
        session: Session {
            id: text(&data["session"], "id")?,
            origin: data["session"]["origin"].as_str().unwrap_or_default().to_owned(),
        },
        template: Template {
            id: text(&data["template"], "id")?,
            name: data["template"]["name"].as_str().unwrap_or_default().to_owned(),
            slug: data["template"]["slug"].as_str().unwrap_or_default().to_owned(),
        },
        configuration: Configuration {
            size: Dimensions::mm(mm(configuration, "width")?, mm(configuration, "height")?),
            components,
            inside_color_id: configuration["insideColorId"].as_str().map(str::to_owned),
            outside_color_id: configuration["outsideColorId"].as_str().map(str::to_owned),
        },
        config_hash: text(data, "configHash")?,
        base_pricing: BasePricing {
            currency: text(base, "currency")?,
            subtotal: number(base, "subtotal")?,
            line_items,
        },
        submission: data.get("submission").filter(|s| !s.is_null()).cloned(),
    })
}

/// Calls plugin `P` with settings given as JSON text, parsing them as the host would.
///
/// ```
/// # use winfactor_pricing_sdk::*;
/// # struct Noop;
/// # impl PricingPlugin for Noop {
/// #     type Settings = NoSettings;
/// #     fn price(r: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
/// #         Ok(Breakdown::from_base(&r.base_pricing))
/// #     }
/// # }
/// let breakdown = testing::price::<Noop>(&testing::sample_request(), "{}").unwrap();
/// assert_eq!(breakdown.line_items.len(), 4);
/// ```
pub fn price<P: PricingPlugin>(
    request: &Request,
    settings_json: &str,
) -> Result<crate::Breakdown, PluginError> {
    let settings: P::Settings = serde_json::from_str(settings_json)
        .map_err(|err| PluginError::InvalidSettings(err.to_string()))?;
    P::price(request, &settings)
}

/// What plugin `P` answers, in the form the shared test vectors (`plugins/vectors.json`)
/// write it: `{"lineItems": [...]}` with every field of the WIT rows (decimals as their
/// WIT text, absent options as `null`), or `{"error": "invalid-settings" | "unsupported" |
/// "failed"}`. The Python and JavaScript kits produce the same JSON, byte for byte.
pub fn answer<P: PricingPlugin>(request: &Request, settings_json: &str) -> Value {
    match price::<P>(request, settings_json) {
        Ok(breakdown) => {
            let rows: Vec<Value> = breakdown
                .line_items
                .into_iter()
                .map(|item| {
                    serde_json::json!({
                        "itemKey": item.item_key,
                        "externalRef": item.external_ref,
                        "description": item.description,
                        "quantity": item.quantity.normalize().to_string(),
                        "unitPrice": item.unit_price.normalize().to_string(),
                        "itemType": item.item_type,
                        "sortOffset": item.sort_offset,
                    })
                })
                .collect();
            serde_json::json!({ "lineItems": rows })
        }
        Err(error) => serde_json::json!({ "error": match error {
            PluginError::InvalidSettings(_) => "invalid-settings",
            PluginError::Unsupported(_) => "unsupported",
            PluginError::Failed(_) => "failed",
        }}),
    }
}

/// Runs plugin `P` on every vector of `vectors_json` (the shared file) for `plugin`, and
/// returns the vectors whose answer differs from `expected`, as `(name, got, expected)`
/// in canonical JSON (sorted keys, no spaces). Each vector's `event` is a
/// `pricing.calculated` data payload with an `organization` (its `unitSystem` is used).
pub fn check_vectors<P: PricingPlugin>(
    vectors_json: &str,
    plugin: &str,
) -> Vec<(String, String, String)> {
    let file: Value = serde_json::from_str(vectors_json).expect("the vectors are JSON");
    let vectors = file["vectors"].as_array().expect("a `vectors` array");
    let mut mismatches = Vec::new();
    let mut seen = 0;
    for vector in vectors.iter().filter(|v| v["plugin"] == plugin) {
        seen += 1;
        let name = vector["name"].as_str().unwrap_or_default().to_owned();
        let event = vector["event"].to_string();
        let mut request = request_from_event(&event).expect("a valid vector event");
        if vector["event"]["organization"]["unitSystem"] == "imperial" {
            request = request.with_unit_system(UnitSystem::Imperial);
        }
        let got = answer::<P>(&request, &vector["settings"].to_string()).to_string();
        let expected = vector["expected"].to_string();
        if got != expected {
            mismatches.push((name, got, expected));
        }
    }
    assert!(seen > 0, "no vector for `{plugin}`");
    mismatches
}
