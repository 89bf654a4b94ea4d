//! Template catalog: list, read, create or replace (a new version), delete, and price a
//! configuration (validation + base pricing + configHash), which is what every pricing
//! rail starts from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::{ApiAuth, WriteAccess};
use axum::extract::State;
use axum::http::StatusCode;

use crate::catalog::{self, Configuration, Pricing, Template, TemplateDefinition};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::services::catalogs;
use crate::store::TemplateWrite;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template, delete_template))
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

/// Create template `slug`, or replace it with a new version: the whole definition with
/// the organisation's own ids for components, options, colours and rules (stable across
/// versions). Open sessions keep their version's prices until their configuration changes;
/// submissions and quotes keep theirs. An identical definition changes nothing (200, same
/// version). Every problem is reported at once with its JSON path.
#[utoipa::path(put, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "The template's slug")),
    request_body = TemplateDefinition,
    responses((status = 200, description = "Replaced (or unchanged)", body = Template),
        (status = 201, description = "Created", body = Template), super::AuthErrors,
        (status = 409, description = "`template_limit`: the plan's template count is reached; \
            `concurrent_changes`: another write of this slug came first (send it again)",
            body = crate::http::error::ErrorBody),
        (status = 422, description = "Invalid definition; `details.errors[].path` names each offending value", body = crate::http::error::ErrorBody)))]
async fn put_template(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(mut definition): Json<TemplateDefinition>,
) -> ApiResult<(StatusCode, Json<Template>)> {
    if definition.slug.is_empty() {
        definition.slug = slug.clone();
    } else if definition.slug != slug {
        return Err(ApiError::invalid_field("slug", "differs from the slug in the path"));
    }
    let (template, write) = catalogs::put(&state.store, &auth.org, &definition).await?;
    let status = if write == TemplateWrite::Created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(template)))
}

/// Delete a template: it leaves the catalog (new sessions cannot start on it); open
/// sessions, submissions and quotes on it carry on with their version. A later `PUT`
/// of its slug brings it back as a new version.
#[utoipa::path(delete, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "Template id or slug")),
    responses((status = 204, description = "Deleted"), super::AuthErrors,
        (status = 404, body = crate::http::error::ErrorBody)))]
async fn delete_template(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    catalogs::delete(&state.store, &auth.org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
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
