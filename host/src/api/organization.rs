//! `GET /api/v1/organization`: the profile connectors configure themselves from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::extract::State;

use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, nullable};
use crate::orgs::{Org, PlanFeatures};
use crate::services::orgs::ProfileCheck;
use crate::store::OrgChanges;

/// The organisation profile: locale, unit system and currency drive integrators' formatting.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationProfile {
    /// Identity, contact details, locale, currency, unit system, plan, `pricingTimeoutMs`.
    #[serde(flatten)]
    pub org: Org,
    /// Symbol shown next to amounts.
    pub currency_symbol: &'static str,
    /// What the plan unlocks.
    pub features: PlanFeatures,
}

impl From<Org> for OrganizationProfile {
    fn from(org: Org) -> Self {
        Self { currency_symbol: org.currency_symbol(), features: org.features(), org }
    }
}

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_organization, update_organization))
}

/// Read the profile of the API key's organisation.
#[utoipa::path(get, path = "/api/v1/organization", tag = "organization",
    responses((status = 200, body = OrganizationProfile), super::AuthErrors))]
async fn get_organization(auth: ApiAuth) -> Json<OrganizationProfile> {
    Json(auth.org.into())
}

/// Changes to the organisation profile; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateOrganization {
    /// Display name.
    pub name: Option<String>,
    /// Contact email.
    pub email: Option<String>,
    /// Contact phone; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Logo URL (`http(s)://…`); `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub logo_url: Option<Option<String>>,
    /// Default locale such as `en` or `nl-BE`.
    pub locale: Option<String>,
    /// Configurator wait for external prices, 500–60000 ms.
    pub pricing_timeout_ms: Option<i64>,
}

impl UpdateOrganization {
    fn validate(self) -> Result<OrgChanges, ApiError> {
        let mut check = ProfileCheck::default();
        if let Some(name) = &self.name {
            check.name(name);
        }
        if let Some(email) = &self.email {
            check.email(email);
        }
        if let Some(Some(phone)) = &self.phone {
            check.phone(phone);
        }
        if let Some(Some(url)) = &self.logo_url {
            check.logo_url(url);
        }
        if let Some(locale) = &self.locale {
            check.locale(locale);
        }
        if let Some(timeout) = self.pricing_timeout_ms {
            check.pricing_timeout_ms(timeout);
        }
        check.finish()?;
        Ok(OrgChanges {
            name: self.name.map(|name| name.trim().to_owned()),
            email: self.email,
            phone: self.phone,
            logo_url: self.logo_url,
            locale: self.locale,
            pricing_timeout_ms: self.pricing_timeout_ms,
            ..OrgChanges::default()
        })
    }
}

/// Update the organisation profile (e.g. `pricingTimeoutMs`, the live-pricing budget).
#[utoipa::path(patch, path = "/api/v1/organization", tag = "organization",
    request_body = UpdateOrganization,
    responses((status = 200, body = OrganizationProfile), super::AuthErrors,
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn update_organization(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Json(update): Json<UpdateOrganization>,
) -> ApiResult<Json<OrganizationProfile>> {
    let changes = update.validate()?;
    Ok(Json(state.store.update_org(&auth.org.id, &changes).await?.into()))
}
