//! Glass area surcharge plus a volume discount.
//!
//! Adds one "Glass area surcharge" row for the glazed area of the configuration (every
//! component's width × height), then discounts every unit price by the largest tier whose
//! minimum total area is reached.
//!
//! Settings: `{"surchargePerM2": 12.5, "tiers": [{"minAreaM2": 5, "percent": 5},
//! {"minAreaM2": 10, "percent": 10}]}`.

use serde::Deserialize;
use winfactor_pricing_sdk::{
    Breakdown, Decimal, LineItem, PluginError, PricingPlugin, Request, dec, info,
};

/// The plugin.
pub struct GlassArea;

/// A volume discount tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tier {
    /// Total glazed area from which the tier applies, m².
    pub min_area_m2: Decimal,
    /// Discount on every unit price, percent.
    pub percent: Decimal,
}

/// Surcharge and tiers.
#[derive(Debug, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Surcharge per m² of glass.
    pub surcharge_per_m2: Decimal,
    /// Volume discount tiers (any order).
    pub tiers: Vec<Tier>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { surcharge_per_m2: dec!(12.50), tiers: Vec::new() }
    }
}

impl PricingPlugin for GlassArea {
    type Settings = Settings;

    fn price(request: &Request, settings: &Settings) -> Result<Breakdown, PluginError> {
        if settings.surcharge_per_m2 < Decimal::ZERO
            || settings.tiers.iter().any(|t| t.percent < Decimal::ZERO || t.percent > dec!(100))
        {
            return Err(PluginError::InvalidSettings(
                "surchargePerM2 must be ≥ 0 and every percent within 0–100".into(),
            ));
        }
        let area: Decimal =
            request.configuration.components.iter().map(|part| part.size.area_m2()).sum();
        let mut breakdown = Breakdown::from_base(&request.base_pricing);
        if settings.surcharge_per_m2 > Decimal::ZERO && area > Decimal::ZERO {
            breakdown.add(
                LineItem::new("Glass area surcharge", area.round_dp(3), settings.surcharge_per_m2)
                    .item_type("glass")
                    .external_ref("plugin:glass-area:surcharge")
                    .sort_offset(900),
            );
        }
        let tier = settings
            .tiers
            .iter()
            .filter(|tier| area >= tier.min_area_m2)
            .max_by_key(|tier| tier.min_area_m2);
        if let Some(tier) = tier {
            let keep = Decimal::ONE - tier.percent / dec!(100);
            breakdown.reprice_all(|item| item.unit_price * keep);
            info(&format!("{area} m² of glass: {}% volume discount", tier.percent));
        }
        Ok(breakdown)
    }
}

winfactor_pricing_sdk::export_plugin!(GlassArea);

#[cfg(test)]
mod tests {
    use super::*;
    use winfactor_pricing_sdk::testing;

    #[test]
    fn surcharge_follows_the_glazed_area_and_the_largest_reached_tier_applies() {
        let request = testing::sample_request(); // two panels of 1.5 × 2.2 m = 6.6 m²
        let settings = r#"{"surchargePerM2": 10,
            "tiers": [{"minAreaM2": 5, "percent": 5}, {"minAreaM2": 50, "percent": 20}]}"#;
        let breakdown = testing::price::<GlassArea>(&request, settings).unwrap();
        let surcharge =
            breakdown.line_items.iter().find(|i| i.description == "Glass area surcharge").unwrap();
        assert_eq!(surcharge.quantity, dec!(6.6));
        assert_eq!(surcharge.unit_price, dec!(9.50), "10 less the 5 % tier");
        let install = breakdown.item("template:install:tpl_lift").unwrap();
        assert_eq!(install.unit_price, dec!(427.50));
    }

    #[test]
    fn no_tier_below_its_minimum() {
        let request = testing::sample_request();
        let settings = r#"{"tiers": [{"minAreaM2": 7, "percent": 5}]}"#;
        let breakdown = testing::price::<GlassArea>(&request, settings).unwrap();
        assert_eq!(breakdown.item("template:install:tpl_lift").unwrap().unit_price, dec!(450));
    }
}
