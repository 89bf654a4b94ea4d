//! Hostile test component: sleeps (WASI `subscribe-duration` and a blocking `poll` in host
//! code, where no epoch check runs) for an hour — the deadline must still end the run.

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        Ok(Breakdown::from_base(&request.base_pricing))
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
