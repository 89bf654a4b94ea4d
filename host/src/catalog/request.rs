//! The organisation's price, asked for: one typed request, `pricing.calculated`'s `data`
//! exactly as the events catalog shows it. The webhook rail sends it (with a `callback`);
//! the plugin rail hands the same request to the organisation's plugin.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{Configuration, Pricing, PricingContext, Template, config_hash};

/// `{id, origin}` of the configuration session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionRef {
    /// `cs_…`
    pub id: String,
    /// Where the customer configures (`configurator`, `api`, …).
    #[serde(default)]
    pub origin: String,
}

/// `{id, name, slug}` of the template configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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

impl From<&Template> for TemplateRef {
    fn from(template: &Template) -> Self {
        Self { id: template.id.clone(), name: template.name.clone(), slug: template.slug.clone() }
    }
}

/// Where and how the organisation's system answers (webhook rail only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Callback {
    /// The single-use write-back URL.
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// The configuration the answer must be for.
    pub config_hash: String,
    /// How long the configurator shows "confirming final price" before falling back.
    pub timeout_ms: i64,
}

/// The `data` of a `pricing.calculated` event: everything the organisation's pricing needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingRequest {
    /// `live`, `submission` or `autofill`.
    pub context: PricingContext,
    /// The session.
    pub session: SessionRef,
    /// The template.
    pub template: TemplateRef,
    /// The canonical configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// The submission (`{id, customer, notes}`) for contexts `submission` and `autofill`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub submission: Option<Value>,
    /// The platform's base pricing, every line item echo-able as an answer.
    pub base_pricing: Pricing,
    /// The write-back (webhook rail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
}

impl PricingRequest {
    /// The request for `configuration` of `template` in `session`, priced in `currency`.
    pub fn new(
        context: PricingContext,
        session: SessionRef,
        template: &Template,
        configuration: &Configuration,
        currency: &str,
    ) -> Self {
        Self {
            context,
            session,
            template: TemplateRef::from(template),
            configuration: configuration.clone(),
            config_hash: config_hash(configuration),
            submission: None,
            base_pricing: super::base_pricing(template, configuration, currency),
            callback: None,
        }
    }

    /// The same request carrying the submission (contexts `submission`, `autofill`).
    pub fn with_submission(mut self, submission: Value) -> Self {
        self.submission = Some(submission);
        self
    }
}
