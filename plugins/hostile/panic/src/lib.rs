//! Hostile test component: panics (a trap, with its message on stderr).

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        println!("about to fail for {}", request.session.id);
        panic!("pricing exploded for {}", request.config_hash)
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
