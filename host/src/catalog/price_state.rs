//! The state of the price a configuration shows: who computed it ([`PricingSource`]),
//! whether it is final ([`PricingStatus`]), why the organisation's price was asked for
//! ([`PricingContext`]), and [`SessionPricing`], what a customer's screen and the API show.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money;
use super::{LineItem, Pricing};

/// Whether the price on screen is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PricingStatus {
    /// Base pricing shown while the organisation's answer is awaited.
    Pending,
    /// The price for this configuration is settled.
    Confirmed,
    /// No answer within `timeoutMs`: base pricing stands (a late answer still applies).
    Fallback,
}

/// Who computed the line items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PricingSource {
    /// The platform's base pricing.
    Base,
    /// The organisation's system, through the callback.
    External,
    /// The organisation's Wasm plugin, in-process.
    Plugin,
}

impl PricingSource {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::External => "external",
            Self::Plugin => "plugin",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "base" => Some(Self::Base),
            "external" => Some(Self::External),
            "plugin" => Some(Self::Plugin),
            _ => None,
        }
    }
}

/// Why `pricing.calculated` fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PricingContext {
    /// The customer changed the configuration.
    Live,
    /// The customer submitted and no adjustment matched: the org's authoritative chance.
    Submission,
    /// An organisation user asked for fresh prices on a quote.
    Autofill,
}

impl PricingContext {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Submission => "submission",
            Self::Autofill => "autofill",
        }
    }
}

/// The `pricing` event of the stream and the pricing in API answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionPricing {
    /// The configuration these prices are for.
    pub config_hash: String,
    /// `pending`, `confirmed` or `fallback`.
    pub status: PricingStatus,
    /// `base`, `external` or `plugin`.
    pub source: PricingSource,
    /// ISO 4217.
    pub currency: String,
    /// Σ line totals.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub subtotal: Decimal,
    /// The breakdown.
    pub line_items: Vec<LineItem>,
    /// Set on the price of the change that moved the session to a newer version of its
    /// template when that version prices the configuration differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_update: Option<CatalogUpdate>,
}

/// The organisation changed the template while the customer was configuring: the price
/// now follows `toVersion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogUpdate {
    /// The version the session priced against until this change.
    pub from_version: i64,
    /// The version it prices against now.
    pub to_version: i64,
    /// Base subtotal of this configuration under `fromVersion`; absent when that version
    /// could not build it (say, an option added since).
    #[serde(default, with = "money::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub previous_base_subtotal: Option<Decimal>,
}

impl SessionPricing {
    /// `pricing` for `config_hash` with a status and source.
    pub fn new(
        config_hash: &str,
        status: PricingStatus,
        source: PricingSource,
        pricing: Pricing,
    ) -> Self {
        Self {
            config_hash: config_hash.to_owned(),
            status,
            source,
            currency: pricing.currency,
            subtotal: pricing.subtotal,
            line_items: pricing.line_items,
            catalog_update: None,
        }
    }

    /// The breakdown alone.
    pub fn breakdown(&self) -> Pricing {
        Pricing {
            currency: self.currency.clone(),
            subtotal: self.subtotal,
            line_items: self.line_items.clone(),
        }
    }
}
