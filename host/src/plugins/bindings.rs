//! The one `bindgen!` site: host types generated from `wit/pricing.wit`, and the
//! conversions between them and the service's own types — including the WIT `decimal`
//! grammar, held exactly.

use rust_decimal::Decimal;

use super::input::PricingInput;
use crate::catalog::PricingContext;
use crate::catalog::breakdown::LineItemInput;
use crate::orgs::UnitSystem;

/// Generated from `wit/pricing.wit` (the SDK reads the same file).
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "pricing-plugin",
        path: "../wit",
        // Runs are async so nothing a guest waits on (a sleep, a poll) outlives its
        // deadline; the `log` import answers at once and stays synchronous.
        exports: { default: async },
    });
}

pub use generated::*;
pub use winfactor::pricing::log::Level;

use winfactor::pricing::types as wit;

impl PricingInput {
    /// The WIT request for this input and the plugin's settings (JSON text).
    pub fn to_wit(&self, settings: &str) -> PricingRequest {
        let request = &self.request;
        let configuration = &request.configuration;
        let base = &request.base_pricing;
        let org = self.org();
        PricingRequest {
            context: match request.context {
                PricingContext::Live => wit::PricingContext::Live,
                PricingContext::Submission => wit::PricingContext::Submission,
                PricingContext::Autofill => wit::PricingContext::Autofill,
            },
            organization: wit::Organization {
                id: org.id,
                name: org.name,
                locale: org.locale,
                currency: org.currency,
                unit_system: match org.unit_system {
                    UnitSystem::Metric => wit::UnitSystem::Metric,
                    UnitSystem::Imperial => wit::UnitSystem::Imperial,
                },
            },
            session: wit::Session {
                id: request.session.id.clone(),
                origin: request.session.origin.clone(),
            },
            template: wit::Template {
                id: request.template.id.clone(),
                name: request.template.name.clone(),
                slug: request.template.slug.clone(),
            },
            configuration: wit::Configuration {
                width_mm: configuration.width,
                height_mm: configuration.height,
                components: configuration
                    .components
                    .iter()
                    .map(|part| wit::Component {
                        component_id: part.component_id.clone(),
                        width_mm: part.width,
                        height_mm: part.height,
                        selected_options: part
                            .selected_options
                            .iter()
                            .map(|o| o.option_id.clone())
                            .collect(),
                    })
                    .collect(),
                inside_color_id: configuration.inside_color_id.clone(),
                outside_color_id: configuration.outside_color_id.clone(),
            },
            config_hash: request.config_hash.clone(),
            base_pricing: wit::BasePricing {
                currency: base.currency.clone(),
                subtotal: base.subtotal.to_string(),
                line_items: base
                    .line_items
                    .iter()
                    .map(|item| wit::BaseItem {
                        item_key: item.item_key.clone().unwrap_or_default(),
                        description: item.description.clone(),
                        quantity: item.quantity.normalize().to_string(),
                        unit_price: item.unit_price.to_string(),
                        total: item.total.to_string(),
                        item_type: item.item_type.clone(),
                        sort_offset: item.sort_offset,
                    })
                    .collect(),
            },
            submission: request.submission.as_ref().map(|value| value.to_string()),
            settings: settings.to_owned(),
        }
    }
}

/// Most significant digits of a WIT `decimal` (what an exact [`Decimal`] holds).
const MAX_DECIMAL_DIGITS: usize = 28;

/// Reads a WIT `decimal` exactly: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, not negative zero, at most
/// 28 digits. Anything else (`1_000`, `+1`, `.5`, `5.`, `1e2`, `-0`, a fraction that would
/// round) is refused with the reason.
pub fn wit_decimal(text: &str) -> Result<Decimal, String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let well_formed =
        digits(whole) && (whole == "0" || !whole.starts_with('0')) && fraction.is_none_or(digits);
    if !well_formed {
        return Err(format!(
            "`{}` is not a decimal (digits, optionally `-` and a fraction)",
            shown(text)
        ));
    }
    if whole.len() + fraction.map_or(0, str::len) > MAX_DECIMAL_DIGITS {
        return Err(format!("`{}` has more than {MAX_DECIMAL_DIGITS} digits", shown(text)));
    }
    let value = Decimal::from_str_exact(text).map_err(|err| format!("`{}`: {err}", shown(text)))?;
    if value.is_zero() && text.starts_with('-') {
        return Err(format!("`{}` is negative zero", shown(text)));
    }
    Ok(value)
}

/// At most 40 characters of guest text for an error message.
fn shown(text: &str) -> String {
    let mut cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// The output's rows as a callback body's rows (validated by the same code), or which
/// decimal is malformed.
pub fn line_items(breakdown: Breakdown) -> Result<Vec<LineItemInput>, String> {
    breakdown
        .line_items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let decimal = |text: &str, field: &str| {
                wit_decimal(text).map_err(|why| format!("lineItems[{index}].{field}: {why}"))
            };
            Ok(LineItemInput {
                quantity: decimal(&item.quantity, "quantity")?,
                unit_price: decimal(&item.unit_price, "unitPrice")?,
                item_key: item.item_key,
                external_ref: item.external_ref,
                description: item.description,
                total: None,
                item_type: item.item_type,
                sort_offset: item.sort_offset,
            })
        })
        .collect()
}

/// Bytes the output occupies (strings plus a fixed cost per row), checked against the cap.
pub fn output_size(breakdown: &Breakdown) -> usize {
    breakdown
        .line_items
        .iter()
        .map(|item| {
            48 + item.description.len()
                + item.quantity.len()
                + item.unit_price.len()
                + item.item_key.as_ref().map_or(0, String::len)
                + item.external_ref.as_ref().map_or(0, String::len)
                + item.item_type.as_ref().map_or(0, String::len)
        })
        .sum()
}

/// A typed plugin error as text for the run record (the guest's text cut to 1 000 bytes,
/// control characters replaced).
pub fn describe(error: &PluginError) -> String {
    let (kind, why) = match error {
        PluginError::InvalidSettings(why) => ("invalid settings", why),
        PluginError::Unsupported(why) => ("unsupported", why),
        PluginError::Failed(why) => ("failed", why),
    };
    let mut text = format!("{kind}: ");
    text.extend(why.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }));
    super::host::truncate(text, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_wit_grammar_exactly() {
        for good in ["0", "960", "140.25", "-1.5", "0.075", "0.10", "1234567890123456789012345678"]
        {
            assert_eq!(wit_decimal(good).unwrap().to_string(), good, "{good}");
        }
        let long_fraction = format!("0.{}", "3".repeat(400));
        for bad in [
            "",
            "-",
            "1_000",
            "+1",
            ".5",
            "5.",
            "1e2",
            "-0",
            "-0.00",
            "007",
            "1.2.3",
            " 1",
            "1 ",
            "١",
            "0x10",
            "NaN",
            "12345678901234567890123456789",
            &long_fraction,
        ] {
            assert!(wit_decimal(bad).is_err(), "accepted `{bad}`");
        }
    }
}
