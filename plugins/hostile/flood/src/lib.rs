//! Hostile test component: answers with more output than the cap allows (3 000 rows of
//! 400 bytes: over 1 MiB and over the 500-row limit).

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        let mut breakdown = Breakdown::from_base(&request.base_pricing);
        let filler = "x".repeat(400);
        for index in 0..3_000 {
            breakdown.add(winfactor_pricing_sdk::LineItem::new(
                format!("{index} {filler}"),
                winfactor_pricing_sdk::Decimal::ONE,
                winfactor_pricing_sdk::Decimal::ONE,
            ));
        }
        Ok(breakdown)
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
