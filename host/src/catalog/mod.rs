//! The product catalog: templates (components, options in groups, colours, pricing rules),
//! the canonical configuration a customer builds from one, its `configHash`, the
//! platform's deterministic base pricing, the organisation's replacement breakdowns
//! ([`breakdown`]) and the state of the price a configuration shows ([`price_state`]).
//!
//! A template is stored as one JSON document per version (its [`TemplateDefinition`]);
//! this module owns its shape and [`definition`] its validation.

pub mod breakdown;
pub mod configuration;
pub mod definition;
pub mod hash;
pub mod money;
pub mod price_state;
pub mod pricing;
pub mod request;
pub mod resolved;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use configuration::{ComponentConfig, Configuration, SelectedOption};
pub use hash::config_hash;
pub use price_state::{
    CatalogUpdate, PricingContext, PricingSource, PricingStatus, SessionPricing,
};
pub use pricing::{LineItem, Pricing, base_pricing};
pub use request::{Callback, PricingRequest, SessionRef, TemplateRef};

/// A product template as stored and served: the platform's id and version around the
/// organisation's [`TemplateDefinition`] (whose fields it derefs to).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// `tpl_…`, kept across versions.
    pub id: String,
    /// Starts at 1; every replacement that changes the definition adds one.
    pub version: i64,
    /// What the organisation wrote.
    #[serde(flatten)]
    pub definition: TemplateDefinition,
}

impl std::ops::Deref for Template {
    type Target = TemplateDefinition;

    fn deref(&self) -> &TemplateDefinition {
        &self.definition
    }
}

impl std::ops::DerefMut for Template {
    fn deref_mut(&mut self) -> &mut TemplateDefinition {
        &mut self.definition
    }
}

/// A product template as an organisation writes it (`PUT /api/v1/templates/{slug}`, catalog
/// files): everything but the platform's id and version. Ids inside it (components,
/// options, colours, rules) are the organisation's own and stay stable across versions,
/// so configurations keep meaning the same parts. See [`definition`] for its validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateDefinition {
    /// URL slug, unique per organisation (e.g. `2-panel-lift-slide`).
    #[serde(default)]
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Marketing description.
    #[serde(default)]
    pub description: String,
    /// Overall size limits in millimetres.
    pub dimensions: DimensionRange,
    /// The parts a configuration is assembled from.
    pub components: Vec<Component>,
    /// Every option of the template; components list which ones they accept.
    #[serde(default)]
    pub options: Vec<CatalogOption>,
    /// Frame colours.
    #[serde(default)]
    pub colors: Vec<Color>,
    /// How base pricing is computed (left out of the customers' public catalog).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pricing_rules: Vec<PricingRule>,
    /// A valid starting configuration for the configurator.
    pub default_configuration: Configuration,
}

/// Inclusive size limits in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DimensionRange {
    /// Smallest width.
    pub min_width: u32,
    /// Largest width.
    pub max_width: u32,
    /// Smallest height.
    pub min_height: u32,
    /// Largest height.
    pub max_height: u32,
}

/// One part of a template (a door panel, a window sash, a fixed light).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    /// The organisation's id for the part, unique in the template.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Kind of part: `door`, `window`, `fixed`, …
    #[serde(rename = "type")]
    pub component_type: String,
    /// Size limits of this part.
    pub dimensions: DimensionRange,
    /// Options this part accepts (ids into the template's `options`).
    pub option_ids: Vec<String>,
}

/// A selectable option (glass, hardware, …). One option per group per component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogOption {
    /// The organisation's id for the option, unique in the template.
    pub id: String,
    /// Short code used on orders and in ERPs (e.g. `HRPP`).
    pub code: String,
    /// Display name (e.g. `HR++ glass`).
    pub name: String,
    /// Group (e.g. `glass`, `hardware`, `security`).
    pub group: String,
}

/// Which face of the frame a colour can be used on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColorSide {
    /// Room side.
    Inside,
    /// Weather side.
    Outside,
}

/// A frame colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Color {
    /// The organisation's id for the colour, unique in the template.
    pub id: String,
    /// Display name (e.g. `Anthracite`).
    pub name: String,
    /// RAL or internal code.
    pub code: String,
    /// Swatch colour for the configurator (`#rrggbb`).
    pub hex: String,
    /// Faces it is available on.
    pub sides: Vec<ColorSide>,
}

/// What a pricing rule is attached to; the first segment of a line item's `itemKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PricingLevel {
    /// The whole product (e.g. a base fee or a frame price by area).
    Template,
    /// Every configured instance of one component.
    Component,
    /// Every component instance that selected one option.
    Option,
    /// A chosen inside or outside colour.
    Color,
}

impl PricingLevel {
    /// The `itemKey` segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Template => "template",
            Self::Component => "component",
            Self::Option => "option",
            Self::Color => "color",
        }
    }
}

/// How a rule turns a configuration into a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PricingMethod {
    /// One per matching instance.
    PerUnit,
    /// Square metres of the matching instances (3 decimals).
    PerSquareMetre,
    /// Metres of perimeter of the matching instances (3 decimals).
    PerMetre,
}

/// A base pricing rule (a "strategy"): its id is the middle segment of `itemKey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PricingRule {
    /// The organisation's id for the rule (e.g. `frame`).
    pub id: String,
    /// What the rule is attached to.
    pub level: PricingLevel,
    /// The component, option or colour id it applies to; absent for `template` rules, which
    /// apply to the whole product (their `itemKey` ends with the template's id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_id: String,
    /// Line item description.
    pub description: String,
    /// Quantity basis.
    pub method: PricingMethod,
    /// Price per unit of quantity, in the org's currency.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub unit_price: Decimal,
    /// Line item type (`door`, `window`, `glass`, `labor`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// Position in the breakdown; lower first.
    pub sort_offset: i64,
}

impl TemplateDefinition {
    /// The component with this id.
    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    /// The option with this id.
    pub fn option(&self, id: &str) -> Option<&CatalogOption> {
        self.options.iter().find(|o| o.id == id)
    }

    /// The colour with this id.
    pub fn color(&self, id: &str) -> Option<&Color> {
        self.colors.iter().find(|c| c.id == id)
    }
}
