//! The one `bindgen!` site: host types generated from `wit/pricing.wit`, and the
//! conversions between them and the service's own types.

use rust_decimal::Decimal;
use std::str::FromStr;

use super::input::PricingInput;
use crate::orgs::UnitSystem;
use crate::pricing::PricingContext;
use crate::pricing::adjustment::LineItemInput;

/// Generated from `wit/pricing.wit` (the SDK reads the same file).
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "pricing-plugin",
        path: "../wit",
    });
}

pub use generated::*;
pub use winfactor::pricing::log::Level;

use winfactor::pricing::types as wit;

impl PricingInput {
    /// The WIT request for this input and the plugin's settings (JSON text).
    pub fn to_wit(&self, settings: &str) -> PricingRequest {
        let configuration = &self.configuration;
        let base = &self.base_pricing;
        let org = self.org();
        PricingRequest {
            context: match self.context {
                PricingContext::Live => wit::PricingContext::Live,
                PricingContext::Submission => wit::PricingContext::Submission,
                PricingContext::Autofill => wit::PricingContext::Autofill,
            },
            organization: wit::Organization {
                id: org.id,
                name: org.name,
                locale: org.locale,
                currency: org.currency,
                unit_system: match org.unit_system {
                    UnitSystem::Metric => wit::UnitSystem::Metric,
                    UnitSystem::Imperial => wit::UnitSystem::Imperial,
                },
            },
            session: wit::Session {
                id: self.session.id.clone(),
                origin: self.session.origin.clone(),
            },
            template: wit::Template {
                id: self.template.id.clone(),
                name: self.template.name.clone(),
                slug: self.template.slug.clone(),
            },
            configuration: wit::Configuration {
                width_mm: configuration.width,
                height_mm: configuration.height,
                components: configuration
                    .components
                    .iter()
                    .map(|part| wit::Component {
                        component_id: part.component_id.clone(),
                        width_mm: part.width,
                        height_mm: part.height,
                        selected_options: part
                            .selected_options
                            .iter()
                            .map(|o| o.option_id.clone())
                            .collect(),
                    })
                    .collect(),
                inside_color_id: configuration.inside_color_id.clone(),
                outside_color_id: configuration.outside_color_id.clone(),
            },
            config_hash: self.config_hash.clone(),
            base_pricing: wit::BasePricing {
                currency: base.currency.clone(),
                subtotal: base.subtotal.to_string(),
                line_items: base
                    .line_items
                    .iter()
                    .map(|item| wit::BaseItem {
                        item_key: item.item_key.clone().unwrap_or_default(),
                        description: item.description.clone(),
                        quantity: item.quantity.normalize().to_string(),
                        unit_price: item.unit_price.to_string(),
                        total: item.total.to_string(),
                        item_type: item.item_type.clone(),
                        sort_offset: item.sort_offset,
                    })
                    .collect(),
            },
            submission: self.submission.as_ref().map(|value| value.to_string()),
            settings: settings.to_owned(),
        }
    }
}

/// The output's rows as a callback body's rows (validated by the same code), or which
/// decimal is malformed.
pub fn line_items(breakdown: Breakdown) -> Result<Vec<LineItemInput>, String> {
    breakdown
        .line_items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let decimal = |text: &str, field: &str| {
                Decimal::from_str(text)
                    .map_err(|_| format!("lineItems[{index}].{field}: `{text}` is not a decimal"))
            };
            Ok(LineItemInput {
                quantity: decimal(&item.quantity, "quantity")?,
                unit_price: decimal(&item.unit_price, "unitPrice")?,
                item_key: item.item_key,
                external_ref: item.external_ref,
                description: item.description,
                total: None,
                item_type: item.item_type,
                sort_offset: item.sort_offset,
            })
        })
        .collect()
}

/// Bytes the output occupies (strings plus a fixed cost per row), checked against the cap.
pub fn output_size(breakdown: &Breakdown) -> usize {
    breakdown
        .line_items
        .iter()
        .map(|item| {
            48 + item.description.len()
                + item.quantity.len()
                + item.unit_price.len()
                + item.item_key.as_ref().map_or(0, String::len)
                + item.external_ref.as_ref().map_or(0, String::len)
                + item.item_type.as_ref().map_or(0, String::len)
        })
        .sum()
}

/// A typed plugin error as text for the run record.
pub fn describe(error: &PluginError) -> String {
    match error {
        PluginError::InvalidSettings(why) => format!("invalid settings: {why}"),
        PluginError::Unsupported(why) => format!("unsupported: {why}"),
        PluginError::Failed(why) => format!("failed: {why}"),
    }
}
