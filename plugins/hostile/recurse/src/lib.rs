//! Hostile test component: recurses without end (the stack limit must stop it).

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        Ok(Breakdown::from_base(&request.base_pricing)).map(|b| {
            std::hint::black_box(descend(std::hint::black_box(1)));
            b
        })
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);

#[allow(unconditional_recursion)]
fn descend(depth: u64) -> u64 {
    let frame = [depth; 16];
    std::hint::black_box(&frame);
    descend(std::hint::black_box(depth + 1)) + frame[depth as usize % 16]
}
