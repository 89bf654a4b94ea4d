//! What a plugin is asked: the `pricing.calculated` request plus the organisation's locale,
//! currency and unit system. Built by the live loop, or read from an event's JSON (dry-run,
//! `winfactor plugin run`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::catalog::PricingRequest;
use crate::orgs::{Org, UnitSystem};

/// The organisation as a plugin sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginOrg {
    /// `org_…`
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// BCP 47 locale.
    #[serde(default = "default_locale")]
    pub locale: String,
    /// ISO 4217 currency.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Metric or imperial.
    #[serde(default = "default_units")]
    pub unit_system: UnitSystem,
}

impl From<&Org> for PluginOrg {
    fn from(org: &Org) -> Self {
        Self {
            id: org.id.clone(),
            name: org.name.clone(),
            locale: org.locale.clone(),
            currency: org.currency.clone(),
            unit_system: org.unit_system,
        }
    }
}

fn default_locale() -> String {
    "en-US".to_owned()
}

fn default_currency() -> String {
    "EUR".to_owned()
}

fn default_units() -> UnitSystem {
    UnitSystem::Metric
}

/// What a plugin is asked: the `pricing.calculated` request (its `callback` is ignored),
/// plus the organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingInput {
    /// The request, as the webhook rail sends it.
    #[serde(flatten)]
    pub request: PricingRequest,
    /// Defaults to the caller's organisation (dry-run) or to neutral values (CLI).
    #[serde(default)]
    pub organization: Option<PluginOrg>,
}

impl PricingInput {
    /// `request` of `org`.
    pub fn new(org: &Org, request: PricingRequest) -> Self {
        Self { request, organization: Some(PluginOrg::from(org)) }
    }

    /// The organisation the request names, or neutral defaults.
    pub fn org(&self) -> PluginOrg {
        self.organization.clone().unwrap_or_else(|| PluginOrg {
            id: String::new(),
            name: String::new(),
            locale: default_locale(),
            currency: self.request.base_pricing.currency.clone(),
            unit_system: default_units(),
        })
    }

    /// Reads an event as JSON: a whole envelope (its `organization`, `orgLocale` and
    /// `data` are used) or just its `data`.
    pub fn from_event(event: &Value) -> Result<Self, String> {
        let data = event.get("data").filter(|d| d.is_object()).unwrap_or(event);
        let mut input: PricingInput = serde_path_to_error::deserialize(data)
            .map_err(|err| format!("{}: {}", err.path(), err.inner()))?;
        if input.organization.is_none()
            && let Some(org) = event.get("organization")
        {
            let mut org: PluginOrg = serde_json::from_value(org.clone())
                .map_err(|err| format!("organization: {err}"))?;
            if let Some(locale) = event.get("orgLocale").and_then(Value::as_str) {
                org.locale = locale.to_owned();
            }
            org.currency = input.request.base_pricing.currency.clone();
            input.organization = Some(org);
        }
        Ok(input)
    }
}
