//! Markup pricing: every unit price raised by a markup chosen per item type, else per
//! template, else a default.
//!
//! Settings: `{"default": 0.25, "byTemplate": {"2-panel-lift-slide": 0.30},
//! "byItemType": {"glass": 0.10, "labor": 0}}` (fractions: 0.25 = +25 %).

use std::collections::HashMap;

use serde::Deserialize;
use winfactor_pricing_sdk::{Breakdown, Decimal, PluginError, PricingPlugin, Request, info};

/// The plugin.
pub struct Margin;

/// Markups as fractions of the base unit price.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Markup when nothing more specific applies.
    pub default: Decimal,
    /// Markup per template slug.
    pub by_template: HashMap<String, Decimal>,
    /// Markup per item type (wins over the template's).
    pub by_item_type: HashMap<String, Decimal>,
}

impl PricingPlugin for Margin {
    type Settings = Settings;

    fn price(request: &Request, settings: &Settings) -> Result<Breakdown, PluginError> {
        let all = settings.by_template.values().chain(settings.by_item_type.values());
        if std::iter::once(&settings.default).chain(all).any(|m| *m < -Decimal::ONE) {
            return Err(PluginError::InvalidSettings("a markup below -1 (-100 %)".into()));
        }
        let template = settings.by_template.get(&request.template.slug).copied();
        let mut breakdown = Breakdown::from_base(&request.base_pricing);
        breakdown.reprice_all(|item| {
            let by_type = item.item_type.as_ref().and_then(|t| settings.by_item_type.get(t));
            let markup = by_type.copied().or(template).unwrap_or(settings.default);
            item.unit_price * (Decimal::ONE + markup)
        });
        info(&format!("marked up {} items", breakdown.line_items.len()));
        Ok(breakdown)
    }
}

winfactor_pricing_sdk::export_plugin!(Margin);

#[cfg(test)]
mod tests {
    use super::*;
    use winfactor_pricing_sdk::{dec, testing};

    #[test]
    fn item_type_beats_template_beats_default() {
        let request = testing::sample_request();
        let settings = r#"{"default": 0.1, "byTemplate": {"2-panel-lift-slide": 0.2},
                           "byItemType": {"labor": 0}}"#;
        let breakdown = testing::price::<Margin>(&request, settings).unwrap();
        let install = breakdown.item("template:install:tpl_lift").unwrap();
        assert_eq!(install.unit_price, dec!(450), "labor: 0 %");
        let frame = breakdown.item("template:frame:tpl_lift").unwrap();
        assert_eq!(frame.unit_price, dec!(372), "template: +20 % of 310");
    }

    #[test]
    fn bad_settings_are_refused() {
        let request = testing::sample_request();
        let err = testing::price::<Margin>(&request, r#"{"default": "lots"}"#).unwrap_err();
        assert!(matches!(err, PluginError::InvalidSettings(_)));
        let err = testing::price::<Margin>(&request, r#"{"default": -2}"#).unwrap_err();
        assert!(matches!(err, PluginError::InvalidSettings(_)));
    }
}
