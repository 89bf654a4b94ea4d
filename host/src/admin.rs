//! The operator API (`/admin/v1/…`): provision organisations, their plans, keys and
//! catalogs without database access — what `winfactor orgs …` and `winfactor catalog …`
//! do on the command line, through the same use cases ([`services::orgs`],
//! [`services::catalogs`]).
//!
//! Off unless `operator_token_sha256` is configured: then every route answers 404 as if it
//! did not exist. Requests carry `Authorization: Bearer <operator token>`; the service
//! keeps only the token's SHA-256 and compares it in constant time.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::definition::CatalogFile;
use crate::http::AppState;
use crate::http::auth::check_token;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{Json, Path};
use crate::orgs::{ApiKey, Org, Plan, PlanFeatures, Scope};
use crate::services::{self, orgs::OrgInput};
use crate::store::TemplateWrite;

/// A request authenticated by the operator token.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = state.operator_token_sha256 else {
            return Err(ApiError::NoRoute(parts.uri.path().to_owned()));
        };
        check_token(&parts.headers, &expected)?;
        Ok(Operator)
    }
}

/// Every operator route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org))
        .routes(routes!(disable_org))
        .routes(routes!(enable_org))
        .routes(routes!(create_key))
        .routes(routes!(export_catalog, import_catalog))
}

/// Errors every operator route can answer.
#[derive(utoipa::IntoResponses)]
pub enum OperatorErrors {
    /// No or wrong operator token.
    #[response(status = 401, description = "Missing or unknown operator token")]
    Unauthorized(ErrorBody),
    /// The operator API is off (no `operator_token_sha256`), or no such organisation.
    #[response(status = 404, description = "Operator API off, or no such organisation")]
    NotFound(ErrorBody),
}

/// A plan and what it unlocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    /// The plan's name.
    pub plan: Plan,
    /// Its features and limits.
    pub features: PlanFeatures,
}

/// Every plan with its features: the one table gating reads.
#[utoipa::path(get, path = "/admin/v1/plans", tag = "admin",
    responses((status = 200, body = Vec<PlanView>), OperatorErrors))]
async fn list_plans(_: Operator) -> Json<Vec<PlanView>> {
    Json(Plan::ALL.into_iter().map(|plan| PlanView { plan, features: plan.features() }).collect())
}

/// Organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgList {
    /// Every organisation, oldest first.
    pub data: Vec<Org>,
}

/// List every organisation, disabled ones included (`disabledAt`).
#[utoipa::path(get, path = "/admin/v1/orgs", tag = "admin",
    responses((status = 200, body = OrgList), OperatorErrors))]
async fn list_orgs(_: Operator, State(state): State<AppState>) -> ApiResult<Json<OrgList>> {
    Ok(Json(OrgList { data: state.store.list_orgs().await? }))
}

/// Create an organisation (`slug`, `name` and `email` required; defaults: `EUR`, `en`,
/// `metric`, the `free` plan).
#[utoipa::path(post, path = "/admin/v1/orgs", tag = "admin", request_body = OrgInput,
    responses((status = 201, body = Org), OperatorErrors,
        (status = 409, description = "`slug_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_org(
    _: Operator,
    State(state): State<AppState>,
    Json(input): Json<OrgInput>,
) -> ApiResult<(StatusCode, Json<Org>)> {
    Ok((StatusCode::CREATED, Json(services::orgs::create(&state.store, input).await?)))
}

/// Read an organisation.
#[utoipa::path(get, path = "/admin/v1/orgs/{slug}", tag = "admin", params(("slug" = String, Path)),
    responses((status = 200, body = Org), OperatorErrors))]
async fn get_org(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Org>> {
    Ok(Json(services::orgs::find(&state.store, &slug).await?))
}

/// Change an organisation's profile or plan (`slug` and `currency` are fixed).
#[utoipa::path(patch, path = "/admin/v1/orgs/{slug}", tag = "admin", params(("slug" = String, Path)),
    request_body = OrgInput, responses((status = 200, body = Org), OperatorErrors,
        (status = 422, body = ErrorBody)))]
async fn update_org(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(input): Json<OrgInput>,
) -> ApiResult<Json<Org>> {
    Ok(Json(services::orgs::update(&state.store, &slug, input).await?))
}

/// Disable an organisation: its API keys get 403 `organization_disabled`, its public pages
/// 404, its webhook deliveries wait (none is spent) until it is enabled again.
#[utoipa::path(post, path = "/admin/v1/orgs/{slug}/disable", tag = "admin",
    params(("slug" = String, Path)), responses((status = 200, body = Org), OperatorErrors))]
async fn disable_org(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Org>> {
    Ok(Json(services::orgs::set_disabled(&state.store, &slug, true).await?))
}

/// Enable a disabled organisation again; its waiting deliveries go out.
#[utoipa::path(post, path = "/admin/v1/orgs/{slug}/enable", tag = "admin",
    params(("slug" = String, Path)), responses((status = 200, body = Org), OperatorErrors))]
async fn enable_org(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Org>> {
    Ok(Json(services::orgs::set_disabled(&state.store, &slug, false).await?))
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKey {
    /// A label, e.g. the integration using it.
    pub name: String,
    /// `read_write` (default) or `read`.
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// A created key: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    /// The key as listed later.
    pub key: ApiKey,
    /// The secret for `Authorization: Bearer`; not recoverable.
    pub secret: String,
}

/// Create an API key of an organisation.
#[utoipa::path(post, path = "/admin/v1/orgs/{slug}/api-keys", tag = "admin",
    params(("slug" = String, Path)), request_body = CreateKey,
    responses((status = 201, body = CreatedKey), OperatorErrors, (status = 422, body = ErrorBody)))]
async fn create_key(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<CreateKey>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let scope = body.scope.unwrap_or(Scope::ReadWrite);
    let created = services::orgs::create_key(&state.store, &slug, &body.name, scope).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key: created.key, secret: created.secret })))
}

/// The organisation's catalog as a file (what `winfactor catalog export` prints).
#[utoipa::path(get, path = "/admin/v1/orgs/{slug}/catalog", tag = "admin",
    params(("slug" = String, Path)), responses((status = 200, body = CatalogFile), OperatorErrors))]
async fn export_catalog(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<CatalogFile>> {
    let org = services::orgs::find(&state.store, &slug).await?;
    Ok(Json(services::catalogs::export(&state.store, &org).await?))
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Slugs of templates created.
    pub created: Vec<String>,
    /// Slugs of templates given a new version.
    pub replaced: Vec<String>,
    /// Slugs of templates already exactly so.
    pub unchanged: Vec<String>,
}

impl From<services::catalogs::ImportReport> for ImportSummary {
    fn from(report: services::catalogs::ImportReport) -> Self {
        let mut summary = Self { created: vec![], replaced: vec![], unchanged: vec![] };
        for (slug, write) in report.templates {
            match write {
                TemplateWrite::Created => summary.created.push(slug),
                TemplateWrite::Replaced => summary.replaced.push(slug),
                TemplateWrite::Unchanged => summary.unchanged.push(slug),
            }
        }
        summary
    }
}

/// Import a catalog file into the organisation (what `winfactor catalog import` does):
/// the whole file is validated first, then each template is created or given a new
/// version; templates the file does not name stay.
#[utoipa::path(put, path = "/admin/v1/orgs/{slug}/catalog", tag = "admin",
    params(("slug" = String, Path)), request_body = CatalogFile,
    responses((status = 200, body = ImportSummary), OperatorErrors,
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_catalog(
    _: Operator,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(file): Json<CatalogFile>,
) -> ApiResult<Json<ImportSummary>> {
    let org = services::orgs::find(&state.store, &slug).await?;
    Ok(Json(services::catalogs::import(&state.store, &org, &file).await?.into()))
}
