//! Hostile test component: allocates until the memory cap stops it.

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        // Reserving (not touching) 8 MiB at a time asks for memory as fast as possible.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(Vec::with_capacity((8 << 20) + request.config_hash.len()));
            std::hint::black_box(&hoard);
        }
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
