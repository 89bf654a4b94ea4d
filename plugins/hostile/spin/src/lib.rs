//! Hostile test component: never returns (the deadline must stop it).

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        let mut spins = 0u64;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(request.config_hash.len() as u64));
        }
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
