//! # WinFactor pricing plugins in Rust
//!
//! A pricing plugin is a WebAssembly component that receives everything
//! `pricing.calculated` carries (the configuration, the base pricing with every line item,
//! the organisation, the plugin's settings) and returns the full replacement breakdown.
//! WinFactor runs it in-process, in microseconds, inside the customer's timeout budget.
//!
//! Implement [`PricingPlugin`], call [`export_plugin!`] once, and build with
//! `cargo build --release --target wasm32-wasip2`:
//!
//! ```
//! use winfactor_pricing_sdk::{Breakdown, NoSettings, PluginError, PricingPlugin, Request, dec};
//!
//! /// Adds a fixed delivery line to every quote.
//! struct Delivery;
//!
//! impl PricingPlugin for Delivery {
//!     type Settings = NoSettings;
//!
//!     fn price(request: &Request, _: &NoSettings) -> Result<Breakdown, PluginError> {
//!         let mut breakdown = Breakdown::from_base(&request.base_pricing);
//!         breakdown.add(winfactor_pricing_sdk::LineItem::new("Delivery", dec!(1), dec!(45)));
//!         Ok(breakdown)
//!     }
//! }
//!
//! winfactor_pricing_sdk::export_plugin!(Delivery);
//!
//! // Natively, the same code is a plain function call: unit-test it without Wasm.
//! let request = winfactor_pricing_sdk::testing::sample_request();
//! let breakdown = Delivery::price(&request, &NoSettings {}).unwrap();
//! assert_eq!(breakdown.subtotal(), request.base_pricing.subtotal + dec!(45));
//! ```
//!
//! **Money is exact.** Amounts and quantities are [`Decimal`]s (travelling as decimal text
//! in the WIT contract); the host recomputes every total as `quantity × unit price` rounded
//! to cents, so the totals the customer sees are always consistent.
//!
//! **Limits.** A run has a deadline (50 ms by default, less if the customer's budget is
//! nearly spent), a memory cap (32 MiB), an output cap and a log cap; past any of them the
//! run fails and the customer sees base pricing. No files, network, environment or real
//! clock: a plugin is a pure function of its request.

mod breakdown;
mod export;
mod log;
mod measure;
mod request;
pub mod testing;

pub use breakdown::{Breakdown, LineItem, MAX_LINE_ITEMS};
pub use log::{debug, error, info, warn};
pub use measure::{Dimensions, Length, round_money, round_to_99};
pub use request::{
    BaseItem, BasePricing, Component, Configuration, Context, Organization, Request, Session,
    Template, UnitSystem,
};
pub use rust_decimal::Decimal;
pub use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

/// A [`Decimal`] from a literal, exactly: `dec!(140.25)`, `dec!(-0.5)`.
///
/// ```
/// use winfactor_pricing_sdk::{Decimal, dec};
/// assert_eq!(dec!(140.25), Decimal::new(14025, 2));
/// assert_eq!(dec!(-0.5), Decimal::new(-5, 1));
/// ```
#[macro_export]
macro_rules! dec {
    ($($literal:tt)+) => {
        $crate::decimal_literal(stringify!($($literal)+))
    };
}

/// Parses what [`dec!`] was given (whitespace between the sign and digits ignored).
#[doc(hidden)]
pub fn decimal_literal(text: &str) -> Decimal {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.parse().unwrap_or_else(|_| panic!("`{text}` is not a decimal literal"))
}

#[doc(hidden)]
pub use export::price_with;

/// The bindings generated from the WIT contract. Not part of the API: use the types above.
#[doc(hidden)]
pub mod __bindings {
    wit_bindgen::generate!({
        world: "pricing-plugin",
        path: "../wit",
        pub_export_macro: true,
        default_bindings_module: "winfactor_pricing_sdk::__bindings",
    });
}

/// Why a plugin declines to price. The customer then sees base pricing (or the
/// organisation's webhook answer, if one arrives); the run is recorded with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The organisation's settings are unusable; the text says how.
    InvalidSettings(String),
    /// This request is outside what the plugin prices.
    Unsupported(String),
    /// Anything else.
    Failed(String),
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidSettings(why) => write!(f, "invalid settings: {why}"),
            Self::Unsupported(why) => write!(f, "unsupported: {why}"),
            Self::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// Settings of a plugin that has none (any JSON object parses).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub struct NoSettings {}

/// A pricing plugin: one pure function from a request (and the organisation's settings) to
/// a full replacement breakdown.
pub trait PricingPlugin {
    /// The plugin's settings, parsed from the JSON the organisation set at upload or with
    /// `PATCH /api/v1/pricing-plugins/{id}`. `{}` (or nothing) must parse: use
    /// `#[serde(default)]`. Unparseable settings answer [`PluginError::InvalidSettings`]
    /// without calling [`PricingPlugin::price`]. Use [`NoSettings`] for a plugin without any.
    type Settings: serde::de::DeserializeOwned;

    /// Prices one configuration.
    fn price(request: &Request, settings: &Self::Settings) -> Result<Breakdown, PluginError>;
}

/// Exports a [`PricingPlugin`] as the component's `price` function. Call it once, at the
/// crate root of a `cdylib` crate.
///
/// ```ignore
/// winfactor_pricing_sdk::export_plugin!(MyPlugin);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __WinfactorPluginExport;

        impl $crate::__bindings::Guest for __WinfactorPluginExport {
            fn price(
                request: $crate::__bindings::winfactor::pricing::types::PricingRequest,
            ) -> ::core::result::Result<
                $crate::__bindings::winfactor::pricing::types::Breakdown,
                $crate::__bindings::winfactor::pricing::types::PluginError,
            > {
                $crate::price_with::<$plugin>(request)
            }
        }

        // Only the component exports the symbol: natively (unit tests, benchmarks linking
        // several plugins) the plugin is a plain library.
        #[cfg(target_arch = "wasm32")]
        $crate::__bindings::export!(__WinfactorPluginExport with_types_in $crate::__bindings);
    };
}
