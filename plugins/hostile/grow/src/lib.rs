//! Hostile test component: allocates until the memory cap stops it.

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![request.config_hash.len() as u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
