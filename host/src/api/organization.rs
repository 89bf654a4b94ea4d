//! `GET /api/v1/organization`: the profile connectors configure themselves from.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiAuth;
use super::extract::Json;
use crate::AppState;
use crate::orgs::{Org, Plan, PlanFeatures, UnitSystem};

/// The organisation profile: locale, unit system and currency drive integrators' formatting.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationProfile {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL slug.
    pub slug: String,
    /// Contact email.
    pub email: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Default locale (`en`, `nl`, …).
    pub locale: String,
    /// `metric` or `imperial`; configurations are always integer millimetres.
    pub unit_system: UnitSystem,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Symbol shown next to amounts.
    pub currency_symbol: String,
    /// Subscription plan.
    pub plan: Plan,
    /// What the plan unlocks.
    pub features: PlanFeatures,
    /// How long the configurator waits for an external price (`callback.timeoutMs`).
    pub pricing_timeout_ms: i64,
    /// Epoch milliseconds.
    pub created_at: i64,
}

impl From<Org> for OrganizationProfile {
    fn from(org: Org) -> Self {
        Self {
            currency_symbol: org.currency_symbol().to_owned(),
            features: org.features(),
            id: org.id,
            name: org.name,
            slug: org.slug,
            email: org.email,
            phone: org.phone,
            logo_url: org.logo_url,
            locale: org.locale,
            unit_system: org.unit_system,
            currency: org.currency,
            plan: org.plan,
            pricing_timeout_ms: org.pricing_timeout_ms,
            created_at: org.created_at,
        }
    }
}

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization))
}

/// Read the profile of the API key's organisation.
#[utoipa::path(get, path = "/api/v1/organization", tag = "organization",
    responses((status = 200, body = OrganizationProfile), super::AuthErrors))]
async fn get_organization(auth: ApiAuth) -> Json<OrganizationProfile> {
    Json(auth.org.into())
}
