//! Wasm pricing plugins: upload (checked at once, compiled in the background), versions,
//! settings, atomic activation (rollback = activating an older version), deletion,
//! dry-runs and recent runs.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::Pricing;
use crate::catalog::PricingContext;
use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::body_deadline::BodyTimedOut;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::plugins::{PluginOrg, PricingInput, UploadError, check_component};
use crate::store::text::is_storable;
use crate::store::{PluginRun, PluginVersion};

/// Longest plugin name.
const MAX_NAME: usize = 100;
/// Largest settings document.
const MAX_SETTINGS: usize = 64 * 1024;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    let upload_limit = crate::plugins::PluginLimits::default().upload_bytes;
    // The upload route alone accepts bodies up to the component cap (plus form overhead).
    let upload = OpenApiRouter::new()
        .routes(routes!(list_plugins, upload_plugin))
        .layer(DefaultBodyLimit::max(upload_limit + 64 * 1024));
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(get_plugin, update_plugin, delete_plugin))
        .routes(routes!(activate_plugin))
        .routes(routes!(dry_run_plugin))
        .routes(routes!(list_plugin_runs))
}

/// The org's versions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginList {
    /// Newest first.
    pub data: Vec<PluginVersion>,
    /// The active version's id, if any.
    pub active_id: Option<String>,
}

/// New settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePlugin {
    /// Replaces the settings (a JSON object).
    #[schema(value_type = Object)]
    pub settings: Value,
}

/// What to dry-run: an event payload or an existing session.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DryRunBody {
    /// A `pricing.calculated` event: the whole envelope or its `data`.
    #[schema(value_type = Option<Object>)]
    pub event: Option<Value>,
    /// Or a session of the org, priced on its current configuration.
    pub session_id: Option<String>,
    /// Settings for this run only (default: the version's).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

/// What a dry-run produced. Nothing is applied.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DryRunResult {
    /// `ok`, `plugin_error`, `invalid_output`, `timeout`, `memory_limit`, `trap`, `busy`
    /// (no slot or plugin time of the organisation's share freed up before the deadline),
    /// `unavailable`.
    pub outcome: String,
    /// The breakdown as the customer would see it (totals recomputed).
    pub output: Option<Pricing>,
    /// What went wrong.
    pub error: Option<String>,
    /// `warm`, `precompiled` or `compiled`.
    pub origin: Option<String>,
    /// Instantiation plus call, µs.
    pub duration_us: i64,
    /// Largest linear memory reached.
    pub peak_memory_bytes: i64,
    /// Output size counted against the cap.
    pub output_bytes: i64,
    /// Fuel or instructions are not metered (epoch deadlines bound the run instead).
    pub instructions: Option<i64>,
    /// The run's log.
    pub log: Vec<String>,
    /// The limits the run was held to.
    pub limits: LimitsView,
}

/// Limits as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsView {
    /// Deadline of a run (shortened by the customer's remaining budget), ms.
    pub budget_ms: u128,
    /// Linear memory cap.
    pub memory_bytes: usize,
    /// Output cap.
    pub output_bytes: usize,
    /// Log cap.
    pub log_bytes: usize,
    /// Upload cap.
    pub upload_bytes: usize,
    /// Lines the log may hold.
    pub log_lines: usize,
    /// Runs of the organisation at once.
    pub org_slots: u32,
    /// Plugin time the organisation may use per second, ms.
    pub org_cpu_ms_per_second: u32,
}

/// Recent runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginRunList {
    /// Newest first.
    pub data: Vec<PluginRun>,
}

/// `?limit=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// `?name=&settings=` for raw uploads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The plugin's name (versions of a name count up).
    #[param(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Settings as JSON text.
    pub settings: Option<String>,
}

/// The `multipart/form-data` upload (`name` and `settings` may come in the query instead).
#[derive(Debug, ToSchema)]
pub struct UploadForm {
    /// The component (`wasm` is accepted as this part's name too).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The plugin's name.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Settings as JSON text (an object).
    pub settings: Option<String>,
}

/// A version of the org's, with its place in the compile queue while it waits.
async fn version_of(state: &AppState, org_id: &str, id: &str) -> ApiResult<PluginVersion> {
    let mut version = state
        .store
        .plugin_version(org_id, id)
        .await?
        .ok_or(ApiError::NotFound("pricing plugin"))?;
    version.queue_position = state.plugins.queue_position(&version.id);
    Ok(version)
}

/// List the organisation's plugin versions.
#[utoipa::path(get, path = "/api/v1/pricing-plugins", tag = "pricing-plugins",
    responses((status = 200, body = PluginList), super::AuthErrors))]
async fn list_plugins(auth: ApiAuth, State(state): State<AppState>) -> ApiResult<Json<PluginList>> {
    let mut data = state.store.plugin_versions(&auth.org.id).await?;
    for version in &mut data {
        version.queue_position = state.plugins.queue_position(&version.id);
    }
    let active_id = data.iter().find(|v| v.active).map(|v| v.id.clone());
    Ok(Json(PluginList { data, active_id }))
}

/// Upload a component: a raw `application/wasm` body (`?name=…&settings=…`) or
/// `multipart/form-data` with parts `file`, `name` and optional `settings`. It is checked
/// at once (422 explains what is wrong), stored within the organisation's limits on stored
/// versions and bytes (409 `plugin_storage_full`), and compiled in the background: the
/// version shows `queued` (with `queuePosition`), `compiling`, then `ready` or `failed`.
#[utoipa::path(post, path = "/api/v1/pricing-plugins", tag = "pricing-plugins",
    params(UploadQuery),
    request_body(description = "The component: raw, or as the `file` part of a form",
        content((crate::http::FileBytes = "application/wasm"), (UploadForm = "multipart/form-data"))),
    responses((status = 202, body = PluginVersion), super::AuthErrors,
        (status = 409, description = "`plugin_storage_full`: the organisation's stored versions or bytes are at their limit", body = crate::http::error::ErrorBody),
        (status = 413, description = "Larger than the upload cap", body = crate::http::error::ErrorBody),
        (status = 415, description = "Neither application/wasm nor multipart/form-data", body = crate::http::error::ErrorBody),
        (status = 422, description = "Not a pricing component, or bad name/settings", body = crate::http::error::ErrorBody)))]
async fn upload_plugin(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> ApiResult<(StatusCode, Json<PluginVersion>)> {
    if !auth.org.features().pricing_plugins {
        return Err(ApiError::PlanRequired("Pro"));
    }
    let upload = read_upload(query, request, &state).await?;
    let name = upload.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::invalid_field("name", format!("1 to {MAX_NAME} characters")));
    }
    let settings = parse_settings(upload.settings.as_deref())?;
    let limit = state.plugins.limits().upload_bytes;
    if upload.wasm.len() > limit {
        return Err(ApiError::PayloadTooLarge);
    }
    let info =
        check_component(&upload.wasm, limit).map_err(|why| ApiError::invalid_field("wasm", why))?;
    let version =
        state.plugins.upload(&auth.org, name, &upload.wasm, &info, &settings).await.map_err(
            |err| match err {
                UploadError::Storage(refusal) => {
                    ApiError::conflict("plugin_storage_full", refusal.to_string())
                }
                UploadError::Internal(err) => ApiError::Internal(err),
            },
        )?;
    Ok((StatusCode::ACCEPTED, Json(version)))
}

struct Upload {
    wasm: Bytes,
    name: Option<String>,
    settings: Option<String>,
}

async fn read_upload(query: UploadQuery, request: Request, state: &AppState) -> ApiResult<Upload> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, state)
            .await
            .map_err(|err| ApiError::InvalidRequest(err.body_text()))?;
        let mut upload = Upload { wasm: Bytes::new(), name: query.name, settings: query.settings };
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            let part = field.name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            let text = || {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                match is_storable(&text) {
                    true => Ok(text),
                    false => Err(ApiError::invalid_field(&part, "must not contain U+0000")),
                }
            };
            match part.as_str() {
                "file" | "wasm" => upload.wasm = bytes.clone(),
                "name" => upload.name = Some(text()?),
                "settings" => upload.settings = Some(text()?),
                other => {
                    return Err(ApiError::invalid_field(
                        other,
                        "unknown part (expected file, name, settings)",
                    ));
                }
            }
        }
        if upload.wasm.is_empty() {
            return Err(ApiError::invalid_field("file", "the component is missing"));
        }
        Ok(upload)
    } else if content_type.starts_with("application/wasm")
        || content_type.starts_with("application/octet-stream")
    {
        let wasm = Bytes::from_request(request, state).await?;
        Ok(Upload { wasm, name: query.name, settings: query.settings })
    } else {
        Err(ApiError::UnsupportedMediaType(
            "upload the component as application/wasm or multipart/form-data".into(),
        ))
    }
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else if BodyTimedOut::caused(&err) {
        ApiError::RequestTimeout
    } else {
        ApiError::InvalidRequest(err.body_text())
    }
}

fn parse_settings(text: Option<&str>) -> ApiResult<Value> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Value::Object(Default::default()));
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|err| ApiError::invalid_field("settings", format!("not JSON: {err}")))?;
    check_settings(&value)?;
    Ok(value)
}

fn check_settings(value: &Value) -> ApiResult<()> {
    if !value.is_object() {
        return Err(ApiError::invalid_field("settings", "must be a JSON object"));
    }
    if value.to_string().len() > MAX_SETTINGS {
        return Err(ApiError::invalid_field("settings", format!("at most {MAX_SETTINGS} bytes")));
    }
    Ok(())
}

/// One version.
#[utoipa::path(get, path = "/api/v1/pricing-plugins/{id}", tag = "pricing-plugins",
    params(("id" = String, Path, description = "Version id (`plg_…`)")),
    responses((status = 200, body = PluginVersion), super::AuthErrors,
        (status = 404, description = "Unknown id", body = crate::http::error::ErrorBody)))]
async fn get_plugin(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PluginVersion>> {
    Ok(Json(version_of(&state, &auth.org.id, &id).await?))
}

/// Replace a version's settings (they apply from the next run).
#[utoipa::path(patch, path = "/api/v1/pricing-plugins/{id}", tag = "pricing-plugins",
    params(("id" = String, Path, description = "Version id")), request_body = UpdatePlugin,
    responses((status = 200, body = PluginVersion), super::AuthErrors,
        (status = 404, description = "Unknown id", body = crate::http::error::ErrorBody),
        (status = 422, description = "Settings not an object", body = crate::http::error::ErrorBody)))]
async fn update_plugin(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UpdatePlugin>,
) -> ApiResult<Json<PluginVersion>> {
    check_settings(&body.settings)?;
    if !state.store.set_plugin_settings(&auth.org.id, &id, &body.settings).await? {
        return Err(ApiError::NotFound("pricing plugin"));
    }
    Ok(Json(version_of(&state, &auth.org.id, &id).await?))
}

/// Delete a version that is not the active one.
#[utoipa::path(delete, path = "/api/v1/pricing-plugins/{id}", tag = "pricing-plugins",
    params(("id" = String, Path, description = "Version id")),
    responses((status = 204, description = "Deleted"), super::AuthErrors,
        (status = 404, description = "Unknown id", body = crate::http::error::ErrorBody),
        (status = 409, description = "`plugin_active`: activate another version first", body = crate::http::error::ErrorBody)))]
async fn delete_plugin(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let version = version_of(&state, &auth.org.id, &id).await?;
    if version.active || !state.store.delete_plugin_version(&auth.org.id, &id).await? {
        return Err(ApiError::conflict(
            "plugin_active",
            "this is the active version: activate another one first",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Make this version the organisation's active plugin (atomic; rolling back is activating
/// an earlier version). Only `ready` versions.
#[utoipa::path(post, path = "/api/v1/pricing-plugins/{id}/activate", tag = "pricing-plugins",
    params(("id" = String, Path, description = "Version id")),
    responses((status = 200, body = PluginVersion), super::AuthErrors,
        (status = 404, description = "Unknown id", body = crate::http::error::ErrorBody),
        (status = 409, description = "`plugin_not_ready`: still compiling or failed", body = crate::http::error::ErrorBody)))]
async fn activate_plugin(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<PluginVersion>> {
    let version = version_of(&state, &auth.org.id, &id).await?;
    if !state.store.activate_plugin(&auth.org.id, &id).await? {
        return Err(ApiError::conflict(
            "plugin_not_ready",
            format!("version {id} is {}; only ready versions can be activated", version.status),
        ));
    }
    Ok(Json(version_of(&state, &auth.org.id, &id).await?))
}

/// Run a version against a `pricing.calculated` payload or an existing session without
/// applying anything: the output, duration, peak memory, output size and log.
#[utoipa::path(post, path = "/api/v1/pricing-plugins/{id}/dry-run", tag = "pricing-plugins",
    params(("id" = String, Path, description = "Version id")), request_body = DryRunBody,
    responses((status = 200, body = DryRunResult), super::AuthErrors,
        (status = 404, description = "Unknown version or session", body = crate::http::error::ErrorBody),
        (status = 422, description = "Neither a valid event nor a session", body = crate::http::error::ErrorBody)))]
async fn dry_run_plugin(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<DryRunBody>,
) -> ApiResult<Json<DryRunResult>> {
    let mut version = version_of(&state, &auth.org.id, &id).await?;
    if let Some(settings) = body.settings {
        check_settings(&settings)?;
        version.settings = settings;
    }
    let input = match (body.event, body.session_id) {
        (Some(event), None) => {
            let mut input = PricingInput::from_event(&event)
                .map_err(|why| ApiError::invalid_field("event", why))?;
            input.organization = Some(PluginOrg::from(&auth.org));
            input
        }
        (None, Some(session_id)) => session_input(&state, &auth.org, &session_id).await?,
        _ => return Err(ApiError::invalid_field("", "give either `event` or `sessionId`")),
    };
    let budget = state.plugins.limits().budget;
    let evaluation = state.plugins.evaluate(&auth.org.id, &version, input, budget).await;
    let run = state.plugins.record(&auth.org.id, &version, None, "dry-run", &evaluation);
    let limits = state.plugins.limits();
    Ok(Json(DryRunResult {
        outcome: run.outcome,
        output: evaluation.report.pricing,
        error: run.error,
        origin: run.origin,
        duration_us: run.duration_us,
        peak_memory_bytes: run.peak_memory_bytes,
        output_bytes: run.output_bytes,
        instructions: None,
        log: run.log,
        limits: LimitsView {
            budget_ms: limits.budget.as_millis(),
            memory_bytes: limits.memory_bytes,
            output_bytes: limits.output_bytes,
            log_bytes: limits.log_bytes,
            upload_bytes: limits.upload_bytes,
            log_lines: limits.log_lines,
            org_slots: limits.org_slots,
            org_cpu_ms_per_second: limits.org_cpu_ms_per_second,
        },
    }))
}

async fn session_input(
    state: &AppState,
    org: &crate::orgs::Org,
    session_id: &str,
) -> ApiResult<PricingInput> {
    let session = state
        .store
        .org_session(&org.id, session_id)
        .await?
        .ok_or(ApiError::NotFound("configuration session"))?;
    let template = state
        .store
        .template_version(&org.id, &session.template_id, session.template_version)
        .await?
        .ok_or(ApiError::NotFound("template"))?;
    let request = crate::pricing::session_request(
        org,
        &session,
        &template,
        &session.configuration,
        PricingContext::Live,
    );
    Ok(PricingInput::new(org, request))
}

/// A version's recent runs (live, submission, autofill and dry-runs), newest first; the
/// last 200 per version are kept.
#[utoipa::path(get, path = "/api/v1/pricing-plugins/{id}/runs", tag = "pricing-plugins",
    params(("id" = String, Path, description = "Version id"), RunsQuery),
    responses((status = 200, body = PluginRunList), super::AuthErrors,
        (status = 404, description = "Unknown id", body = crate::http::error::ErrorBody)))]
async fn list_plugin_runs(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<RunsQuery>,
) -> ApiResult<Json<PluginRunList>> {
    version_of(&state, &auth.org.id, &id).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "between 1 and 200"));
    }
    Ok(Json(PluginRunList { data: state.store.plugin_runs(&auth.org.id, &id, limit).await? }))
}
