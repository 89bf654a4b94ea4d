//! Template catalog: list, read, and price a configuration (validation + base pricing +
//! configHash), which is what every pricing rail starts from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiAuth;
use axum::extract::State;

use crate::catalog::{self, Configuration, Pricing, Template};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template))
        .routes(routes!(price_configuration))
}

/// A page of templates.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// The organisation's templates.
    pub data: Vec<Template>,
}

/// List the organisation's templates with components, options and colours.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates",
    responses((status = 200, body = TemplateList), super::AuthErrors))]
async fn list_templates(
    auth: ApiAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<TemplateList>> {
    Ok(Json(TemplateList { data: state.store.list_templates(&auth.org.id).await? }))
}

/// Read one template by id or slug.
#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "Template id or slug")),
    responses((status = 200, body = Template), super::AuthErrors,
        (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_template(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Template>> {
    let template = state.store.template(&auth.org.id, &id).await?;
    Ok(Json(template.ok_or(ApiError::NotFound("template"))?))
}

/// Body of a pricing request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceRequest {
    /// The configuration to validate and price.
    pub configuration: Configuration,
}

/// A validated configuration with its hash and base pricing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricedConfiguration {
    /// The canonical configuration.
    pub configuration: Configuration,
    /// `sha256:<hex>` of its canonical JSON.
    pub config_hash: String,
    /// The platform's base breakdown.
    pub base_pricing: Pricing,
}

/// Validate a configuration against the template and compute its base pricing.
#[utoipa::path(post, path = "/api/v1/templates/{id}/pricing", tag = "templates",
    params(("id" = String, Path, description = "Template id or slug")),
    request_body = PriceRequest,
    responses((status = 200, body = PricedConfiguration), super::AuthErrors,
        (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, description = "Invalid configuration; `details.errors[].path` names each offending value", body = crate::http::error::ErrorBody)))]
async fn price_configuration(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(request): Json<PriceRequest>,
) -> ApiResult<Json<PricedConfiguration>> {
    let template =
        state.store.template(&auth.org.id, &id).await?.ok_or(ApiError::NotFound("template"))?;
    let configuration =
        request.configuration.validate(&template, "configuration").map_err(ApiError::Validation)?;
    Ok(Json(PricedConfiguration {
        config_hash: catalog::config_hash(&configuration),
        base_pricing: catalog::base_pricing(&template, &configuration, &auth.org.currency),
        configuration,
    }))
}
