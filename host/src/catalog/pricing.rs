//! Base pricing: the platform's own deterministic breakdown of a configuration, and the line
//! item shape shared with adjustments, quotes and plugins.
//!
//! Every rule of the template yields at most one line item, keyed
//! `level:ruleId:sourceId` (a `template` rule's source is the template's id). Quantities are counts, or square metres / metres rounded to three
//! decimals; each total is `quantity × unitPrice` rounded to cents; the subtotal is the sum
//! of the totals. Everything is exact decimal arithmetic.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::{self, round_money};
use super::{Configuration, PricingLevel, PricingMethod, PricingRule, Template};

/// One row of a price breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// `level:strategyId:sourceId` for base items; optional on replacements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_key: Option<String>,
    /// The integrator's own reference (`system:type:id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    /// What the customer reads.
    pub description: String,
    /// Count or measure.
    #[serde(with = "money::quantity")]
    #[schema(value_type = f64)]
    pub quantity: Decimal,
    /// Price per unit.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub unit_price: Decimal,
    /// `quantity × unitPrice`, rounded to cents.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub total: Decimal,
    /// `door`, `window`, `glass`, `labor`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// Position in the breakdown; lower first.
    #[serde(default)]
    pub sort_offset: i64,
}

impl LineItem {
    /// A line whose total is computed from quantity and unit price.
    pub fn priced(description: String, quantity: Decimal, unit_price: Decimal) -> Self {
        Self {
            item_key: None,
            external_ref: None,
            description,
            quantity,
            unit_price,
            total: round_money(quantity * unit_price),
            item_type: None,
            sort_offset: 0,
        }
    }
}

/// A full breakdown with its currency and exact subtotal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of the line totals.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub subtotal: Decimal,
    /// Rows, ordered by `sortOffset`.
    pub line_items: Vec<LineItem>,
}

impl Pricing {
    /// Orders the items by `sortOffset` (stable) and sums their totals.
    pub fn from_items(currency: &str, mut line_items: Vec<LineItem>) -> Self {
        line_items.sort_by_key(|item| item.sort_offset);
        let subtotal = line_items.iter().map(|item| item.total).sum();
        Self { currency: currency.to_owned(), subtotal, line_items }
    }
}

/// Prices a validated configuration with the template's rules.
pub fn base_pricing(template: &Template, configuration: &Configuration, currency: &str) -> Pricing {
    let items = template
        .pricing_rules
        .iter()
        .filter_map(|rule| {
            let quantity = rule_quantity(rule, configuration);
            let source = match rule.level {
                PricingLevel::Template => &template.id,
                _ => &rule.source_id,
            };
            (quantity > Decimal::ZERO).then(|| LineItem {
                item_key: Some(format!("{}:{}:{source}", rule.level.as_str(), rule.id)),
                item_type: rule.item_type.clone(),
                sort_offset: rule.sort_offset,
                ..LineItem::priced(rule.description.clone(), quantity, rule.unit_price)
            })
        })
        .collect();
    Pricing::from_items(currency, items)
}

/// Sums the rule's measure over every part of the configuration it applies to.
fn rule_quantity(rule: &PricingRule, configuration: &Configuration) -> Decimal {
    let whole = (configuration.width, configuration.height);
    let measures: Vec<(u32, u32)> = match rule.level {
        PricingLevel::Template => vec![whole],
        PricingLevel::Component => configuration
            .components
            .iter()
            .filter(|part| part.component_id == rule.source_id)
            .map(|part| (part.width, part.height))
            .collect(),
        PricingLevel::Option => configuration
            .components
            .iter()
            .filter(|part| part.selected_options.iter().any(|o| o.option_id == rule.source_id))
            .map(|part| (part.width, part.height))
            .collect(),
        PricingLevel::Color => [&configuration.inside_color_id, &configuration.outside_color_id]
            .into_iter()
            .filter(|side| side.as_deref() == Some(rule.source_id.as_str()))
            .map(|_| whole)
            .collect(),
    };
    measures.into_iter().map(|(width, height)| measure(rule.method, width, height)).sum()
}

/// The quantity one part contributes: 1, its area in m², or its perimeter in m.
fn measure(method: PricingMethod, width_mm: u32, height_mm: u32) -> Decimal {
    let width = Decimal::from(width_mm);
    let height = Decimal::from(height_mm);
    match method {
        PricingMethod::PerUnit => Decimal::ONE,
        PricingMethod::PerSquareMetre => (width * height / Decimal::from(1_000_000)).round_dp(3),
        PricingMethod::PerMetre => {
            (Decimal::TWO * (width + height) / Decimal::ONE_THOUSAND).round_dp(3)
        }
    }
}
