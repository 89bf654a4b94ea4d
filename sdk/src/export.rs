//! The bridge between the generated bindings and the plugin's trait: converts the request
//! to SDK types, parses the settings, calls the plugin, converts the answer back.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::__bindings::winfactor::pricing::types as wit;
use crate::{
    BaseItem, BasePricing, Breakdown, Component, Configuration, Context, Dimensions, LineItem,
    Organization, PluginError, PricingPlugin, Request, Session, Template, UnitSystem,
};

/// Runs plugin `P` on a request from the host. Used by [`crate::export_plugin!`].
pub fn price_with<P: PricingPlugin>(
    request: wit::PricingRequest,
) -> Result<wit::Breakdown, wit::PluginError> {
    let settings_text = if request.settings.trim().is_empty() { "{}" } else { &request.settings };
    let settings: P::Settings = serde_json::from_str(settings_text)
        .map_err(|err| wit::PluginError::InvalidSettings(err.to_string()))?;
    let request = Request::try_from(request).map_err(wit::PluginError::Failed)?;
    P::price(&request, &settings).map(Into::into).map_err(Into::into)
}

fn decimal(text: &str, what: &str) -> Result<Decimal, String> {
    Decimal::from_str(text).map_err(|_| format!("{what}: `{text}` is not a decimal"))
}

impl TryFrom<wit::PricingRequest> for Request {
    type Error = String;

    fn try_from(request: wit::PricingRequest) -> Result<Self, String> {
        let base = request.base_pricing;
        let line_items = base
            .line_items
            .into_iter()
            .map(|item| {
                Ok(BaseItem {
                    quantity: decimal(&item.quantity, "quantity")?,
                    unit_price: decimal(&item.unit_price, "unit price")?,
                    total: decimal(&item.total, "total")?,
                    item_key: item.item_key,
                    description: item.description,
                    item_type: item.item_type,
                    sort_offset: item.sort_offset,
                })
            })
            .collect::<Result<_, String>>()?;
        let configuration = request.configuration;
        Ok(Self {
            context: match request.context {
                wit::PricingContext::Live => Context::Live,
                wit::PricingContext::Submission => Context::Submission,
                wit::PricingContext::Autofill => Context::Autofill,
            },
            organization: Organization {
                id: request.organization.id,
                name: request.organization.name,
                locale: request.organization.locale,
                currency: request.organization.currency,
                unit_system: match request.organization.unit_system {
                    wit::UnitSystem::Metric => UnitSystem::Metric,
                    wit::UnitSystem::Imperial => UnitSystem::Imperial,
                },
            },
            session: Session { id: request.session.id, origin: request.session.origin },
            template: Template {
                id: request.template.id,
                name: request.template.name,
                slug: request.template.slug,
            },
            configuration: Configuration {
                size: Dimensions::mm(configuration.width_mm, configuration.height_mm),
                components: configuration
                    .components
                    .into_iter()
                    .map(|part| Component {
                        component_id: part.component_id,
                        size: Dimensions::mm(part.width_mm, part.height_mm),
                        selected_options: part.selected_options,
                    })
                    .collect(),
                inside_color_id: configuration.inside_color_id,
                outside_color_id: configuration.outside_color_id,
            },
            config_hash: request.config_hash,
            base_pricing: BasePricing {
                subtotal: decimal(&base.subtotal, "subtotal")?,
                currency: base.currency,
                line_items,
            },
            submission: request.submission.and_then(|text| serde_json::from_str(&text).ok()),
        })
    }
}

impl From<Breakdown> for wit::Breakdown {
    fn from(breakdown: Breakdown) -> Self {
        Self { line_items: breakdown.line_items.into_iter().map(Into::into).collect() }
    }
}

impl From<LineItem> for wit::LineItem {
    fn from(item: LineItem) -> Self {
        Self {
            item_key: item.item_key,
            external_ref: item.external_ref,
            description: item.description,
            quantity: item.quantity.normalize().to_string(),
            unit_price: item.unit_price.normalize().to_string(),
            item_type: item.item_type,
            sort_offset: item.sort_offset,
        }
    }
}

impl From<PluginError> for wit::PluginError {
    fn from(error: PluginError) -> Self {
        match error {
            PluginError::InvalidSettings(why) => Self::InvalidSettings(why),
            PluginError::Unsupported(why) => Self::Unsupported(why),
            PluginError::Failed(why) => Self::Failed(why),
        }
    }
}
