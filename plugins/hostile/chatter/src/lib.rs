//! Hostile test component: floods its log — 16 KiB of bare newlines and 64 KiB of text on
//! stdout, as much on stderr, and a thousand `log` calls — then prices normally. The run's
//! one log cap must hold it to its bytes and lines.

use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request};

/// The component.
pub struct Hostile;

impl PricingPlugin for Hostile {
    type Settings = NoSettings;

    fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
        use std::io::Write;
        let newlines = vec![b'\n'; 16 * 1024];
        let text = "chatter ".repeat(8 * 1024);
        let _ = std::io::stdout().write_all(&newlines);
        let _ = std::io::stdout().write_all(text.as_bytes());
        let _ = std::io::stderr().write_all(text.as_bytes());
        for n in 0..1_000 {
            winfactor_pricing_sdk::info(&format!("line {n} of {}", request.config_hash));
        }
        Ok(Breakdown::from_base(&request.base_pricing))
    }
}

winfactor_pricing_sdk::export_plugin!(Hostile);
