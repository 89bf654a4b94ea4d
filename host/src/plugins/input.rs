//! What a plugin is asked: the `pricing.calculated` data plus the organisation's locale,
//! currency and unit system. Built from live state, or read from an event's JSON (dry-run,
//! `winfactor plugin run`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::catalog::{Configuration, Pricing};
use crate::orgs::{Org, UnitSystem};
use crate::pricing::PricingContext;

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

/// `{id, origin}` of the session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionRef {
    /// `cs_…`
    pub id: String,
    /// `configurator`, `api`, …
    #[serde(default)]
    pub origin: String,
}

/// `{id, name, slug}` of the template.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateRef {
    /// Template id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// URL-safe name.
    #[serde(default)]
    pub slug: String,
}

/// The `data` of a `pricing.calculated` event (its `callback` is ignored), plus the
/// organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingInput {
    /// `live`, `submission` or `autofill`.
    pub context: PricingContext,
    /// Defaults to the caller's organisation (dry-run) or to neutral values (CLI).
    #[serde(default)]
    pub organization: Option<PluginOrg>,
    /// The session.
    pub session: SessionRef,
    /// The template.
    pub template: TemplateRef,
    /// The canonical configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// The base pricing.
    pub base_pricing: Pricing,
    /// The submission, for contexts `submission` and `autofill`.
    #[serde(default)]
    pub submission: Option<Value>,
}

impl PricingInput {
    /// The organisation the request names, or neutral defaults.
    pub fn org(&self) -> PluginOrg {
        self.organization.clone().unwrap_or_else(|| PluginOrg {
            id: String::new(),
            name: String::new(),
            locale: default_locale(),
            currency: self.base_pricing.currency.clone(),
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
            org.currency = input.base_pricing.currency.clone();
            input.organization = Some(org);
        }
        Ok(input)
    }
}

impl PricingInput {
    /// The same request carrying the submission (contexts `submission`, `autofill`).
    pub fn with_submission(mut self, submission: Value) -> Self {
        self.submission = Some(submission);
        self
    }

    /// The request for a configuration of a session.
    #[allow(clippy::too_many_arguments)]
    pub fn for_session(
        org: &Org,
        session: SessionRef,
        template: &crate::catalog::Template,
        configuration: &Configuration,
        config_hash: &str,
        base_pricing: &Pricing,
        context: PricingContext,
        submission: Option<Value>,
    ) -> Self {
        Self {
            context,
            organization: Some(PluginOrg::from(org)),
            session,
            template: TemplateRef {
                id: template.id.clone(),
                name: template.name.clone(),
                slug: template.slug.clone(),
            },
            configuration: configuration.clone(),
            config_hash: config_hash.to_owned(),
            base_pricing: base_pricing.clone(),
            submission,
        }
    }
}

impl PricingInput {
    /// The request for a configuration of a stored session.
    pub fn for_stored_session(
        org: &Org,
        session: &crate::store::Session,
        template: &crate::catalog::Template,
        configuration: &Configuration,
        base_pricing: &Pricing,
        context: PricingContext,
    ) -> Self {
        let reference = SessionRef { id: session.id.clone(), origin: session.origin.clone() };
        let hash = crate::catalog::config_hash(configuration);
        Self::for_session(
            org,
            reference,
            template,
            configuration,
            &hash,
            base_pricing,
            context,
            None,
        )
    }
}
