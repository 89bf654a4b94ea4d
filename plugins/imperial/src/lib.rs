//! Imperial-market pricing: the product is priced per square foot of its overall size,
//! with a minimum billable area; kept items (labor, hardware by default) stay; every price
//! is charm-rounded up to .99.
//!
//! Settings: `{"pricePerSqFt": 38.5, "minimumSqFt": 10, "keepItemTypes": ["labor", "hardware"]}`.

use serde::Deserialize;
use winfactor_pricing_sdk::{
    Breakdown, Decimal, LineItem, PluginError, PricingPlugin, Request, UnitSystem, dec, round_to_99,
};

/// The plugin.
pub struct Imperial;

/// Price per square foot and what to keep from the base pricing.
#[derive(Debug, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Price per square foot of the overall size.
    pub price_per_sq_ft: Decimal,
    /// Smallest billable area.
    pub minimum_sq_ft: Decimal,
    /// Base item types kept (charm-rounded) beside the per-area line.
    pub keep_item_types: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            price_per_sq_ft: dec!(38.50),
            minimum_sq_ft: dec!(10),
            keep_item_types: vec!["labor".into(), "hardware".into()],
        }
    }
}

impl PricingPlugin for Imperial {
    type Settings = Settings;

    fn price(request: &Request, settings: &Settings) -> Result<Breakdown, PluginError> {
        if request.organization.unit_system != UnitSystem::Imperial {
            return Err(PluginError::Unsupported("the organisation measures in metric".into()));
        }
        if settings.price_per_sq_ft <= Decimal::ZERO {
            return Err(PluginError::InvalidSettings("pricePerSqFt must be > 0".into()));
        }
        let size = request.configuration.size;
        let area = size.area_sqft().round_dp(2).max(settings.minimum_sq_ft);
        let mut breakdown = Breakdown::new();
        breakdown.add(
            LineItem::new(
                format!(
                    "{} (W {}″ × H {}″, {area} sq ft)",
                    request.template.name,
                    size.width.inches().round_dp(1),
                    size.height.inches().round_dp(1)
                ),
                Decimal::ONE,
                round_to_99(area * settings.price_per_sq_ft),
            )
            .item_type("window"),
        );
        for item in &request.base_pricing.line_items {
            let kept =
                item.item_type.as_ref().is_some_and(|t| settings.keep_item_types.contains(t));
            if kept {
                let mut line = LineItem::from(item);
                line.unit_price = round_to_99(item.unit_price);
                breakdown.add(line);
            }
        }
        Ok(breakdown)
    }
}

winfactor_pricing_sdk::export_plugin!(Imperial);

#[cfg(test)]
mod tests {
    use super::*;
    use winfactor_pricing_sdk::testing;

    #[test]
    fn prices_per_square_foot_and_rounds_to_99() {
        let request = testing::sample_request().with_unit_system(UnitSystem::Imperial);
        let breakdown = testing::price::<Imperial>(&request, r#"{"pricePerSqFt": 20}"#).unwrap();
        // 3000 × 2200 mm = 118.11″ × 86.61″ = 71.04 sq ft → 1420.80 → 1420.99
        assert_eq!(breakdown.line_items[0].unit_price, dec!(1420.99));
        let kept: Vec<_> = breakdown.line_items[1..].iter().map(|i| i.unit_price).collect();
        assert_eq!(kept, [dec!(120.99), dec!(450.99)], "hardware and labor kept");
    }

    #[test]
    fn metric_organisations_are_not_priced() {
        let err = testing::price::<Imperial>(&testing::sample_request(), "{}").unwrap_err();
        assert!(matches!(err, PluginError::Unsupported(_)));
    }
}
