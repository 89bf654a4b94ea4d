//! Organisations, their plans and plan features, and API keys.

use serde::Serialize;
use utoipa::ToSchema;

/// A subscription plan; features follow from it ([`Plan::features`], the one table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Configurator and quotes; no API access, no webhooks, no plugins.
    Free,
    /// API access, webhooks, live pricing, plugins.
    Pro,
    /// Pro with larger limits.
    Enterprise,
}

impl Plan {
    /// Every plan, cheapest first.
    pub const ALL: [Plan; 3] = [Self::Free, Self::Pro, Self::Enterprise];

    /// Parses the stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|plan| plan.as_str() == name)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }

    /// What this plan unlocks: the table every gate reads. Plugin storage is further capped
    /// by the server's own `plugin_max_versions` / `plugin_max_stored_mib`.
    pub fn features(self) -> PlanFeatures {
        match self {
            Self::Free => PlanFeatures {
                api_access: false,
                pricing_plugins: false,
                max_templates: 10,
                max_webhook_endpoints: 0,
                max_plugin_versions: 0,
                max_plugin_stored_bytes: 0,
            },
            Self::Pro => PlanFeatures {
                api_access: true,
                pricing_plugins: true,
                max_templates: 100,
                max_webhook_endpoints: 20,
                max_plugin_versions: 20,
                max_plugin_stored_bytes: 128 << 20,
            },
            Self::Enterprise => PlanFeatures {
                api_access: true,
                pricing_plugins: true,
                max_templates: 500,
                max_webhook_endpoints: 50,
                max_plugin_versions: 50,
                max_plugin_stored_bytes: 512 << 20,
            },
        }
    }
}

/// Features and limits unlocked by a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanFeatures {
    /// REST API v1, webhooks, live pricing hooks (Pro and above).
    pub api_access: bool,
    /// Uploading and running Wasm pricing plugins.
    pub pricing_plugins: bool,
    /// Templates in the catalog (deleted ones do not count).
    pub max_templates: u32,
    /// Webhook endpoints.
    pub max_webhook_endpoints: u32,
    /// Stored plugin versions.
    pub max_plugin_versions: u32,
    /// Bytes of stored plugin components.
    pub max_plugin_stored_bytes: u64,
}

/// Metric (millimetres) or imperial display; configurations are always integer millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnitSystem {
    /// Millimetres and square metres.
    Metric,
    /// Inches and square feet.
    Imperial,
}

impl UnitSystem {
    /// Parses the stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "metric" => Some(Self::Metric),
            "imperial" => Some(Self::Imperial),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Metric => "metric",
            Self::Imperial => "imperial",
        }
    }
}

/// An organisation: a manufacturer using the platform.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL slug, unique.
    pub slug: String,
    /// Contact email.
    pub email: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Logo for quotes and pages.
    pub logo_url: Option<String>,
    /// Default locale (`en`, `nl`, …).
    pub locale: String,
    /// ISO 4217 currency of all prices.
    pub currency: String,
    /// How dimensions are shown to customers.
    pub unit_system: UnitSystem,
    /// Subscription plan.
    pub plan: Plan,
    /// How long the configurator waits for an external price, in milliseconds.
    pub pricing_timeout_ms: i64,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds, while an operator has disabled the organisation: its keys are
    /// refused, its public pages are gone and its deliveries wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<i64>,
}

impl Org {
    /// The features of the org's plan.
    pub fn features(&self) -> PlanFeatures {
        self.plan.features()
    }

    /// Not disabled by an operator.
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// The symbol customers see next to amounts.
    pub fn currency_symbol(&self) -> &'static str {
        currency_symbol(&self.currency)
    }
}

/// The customary symbol for an ISO 4217 code (the code's own text when unknown).
pub fn currency_symbol(code: &str) -> &'static str {
    match code {
        "EUR" => "€",
        "USD" | "CAD" | "AUD" | "NZD" => "$",
        "GBP" => "£",
        "CHF" => "CHF",
        "SEK" | "NOK" | "DKK" => "kr",
        "PLN" => "zł",
        _ => "¤",
    }
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// GET only.
    Read,
    /// Everything.
    ReadWrite,
}

impl Scope {
    /// Parses the stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Self::Read),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }
}

/// An API key as listed (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    /// `key_…`
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// Human label.
    pub name: String,
    /// First characters of the key, to recognise it.
    pub prefix: String,
    /// What it may do.
    pub scope: Scope,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds, if revoked.
    pub revoked_at: Option<i64>,
}

/// Prefix of every API key, so leaked keys are easy to grep for.
pub const API_KEY_PREFIX: &str = "wf_";

/// Generates a new API key secret (`wf_` + 40 random alphanumerics).
pub fn generate_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", crate::ids::random_alphanumeric(40))
}
