//! Configuration sessions, customer side: open a session, change its configuration, follow
//! its price over Server-Sent Events, submit it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::leads::customer_locale;
use crate::catalog::Configuration;
use crate::catalog::SessionPricing;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::slots::Full;
use crate::pricing::Session;
use crate::services::submissions::{
    self, Customer, FrozenPricing, NewSubmission, org_and_current_template,
};
use crate::validation::FieldError;
use crate::validation::is_email;

/// Seconds between SSE heartbeats (comment lines that keep proxies from closing the stream).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(get_session))
        .routes(routes!(update_configuration))
        .routes(routes!(stream_pricing))
        .routes(routes!(submit_session))
}

/// Opens a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSession {
    /// Template by slug…
    pub template_slug: Option<String>,
    /// …or by id.
    pub template_id: Option<String>,
    /// Starting configuration (default: the template's default).
    pub configuration: Option<Configuration>,
    /// Where the configurator runs (default `configurator`).
    #[schema(min_length = 1, max_length = 100)]
    pub origin: Option<String>,
}

/// A session as the customer sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// `cs_…`: keep it; it is the session's only credential.
    pub id: String,
    /// The template.
    pub template_id: String,
    /// The current configuration.
    pub configuration: Configuration,
    /// Its hash.
    pub config_hash: String,
    /// The price on screen.
    pub pricing: SessionPricing,
    /// Set once submitted.
    pub submission_id: Option<String>,
    /// Where to follow the price (`text/event-stream`).
    pub stream_url: String,
}

impl SessionView {
    fn new(session: Session, public_url: &str) -> Self {
        Self {
            stream_url: format!(
                "{public_url}/public/v1/configuration-sessions/{}/stream",
                session.id
            ),
            id: session.id,
            template_id: session.template_id,
            configuration: session.configuration,
            config_hash: session.config_hash,
            pricing: session.pricing,
            submission_id: session.submission_id,
        }
    }
}

/// Open a configuration session on a template of the organisation.
#[utoipa::path(post, path = "/public/v1/orgs/{orgSlug}/configuration-sessions", tag = "public",
    params(("orgSlug" = String, Path)), request_body = CreateSession, security(()),
    responses((status = 201, body = SessionView), (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn create_session(
    State(state): State<AppState>,
    Path(org_slug): Path<String>,
    Json(body): Json<CreateSession>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let org = super::active_org(&state, &org_slug).await?;
    let key = body.template_slug.or(body.template_id).ok_or_else(|| {
        ApiError::invalid_field("templateSlug", "give templateSlug or templateId")
    })?;
    let template =
        state.store.template(&org.id, &key).await?.ok_or(ApiError::NotFound("template"))?;
    let origin = body.origin.unwrap_or_else(|| "configurator".into());
    if origin.is_empty() || origin.chars().count() > 100 {
        return Err(ApiError::invalid_field("origin", "1 to 100 characters"));
    }
    let configuration =
        body.configuration.unwrap_or_else(|| template.default_configuration.clone());
    let configuration =
        configuration.validate(&template, "configuration").map_err(ApiError::Validation)?;
    let session = state.pricer.start_session(&org, &template, &origin, &configuration).await?;
    Ok((StatusCode::CREATED, Json(SessionView::new(session, &state.public_url))))
}

/// Read a session: configuration, hash and the price on screen.
#[utoipa::path(get, path = "/public/v1/configuration-sessions/{id}", tag = "public",
    params(("id" = String, Path)), security(()),
    responses((status = 200, body = SessionView), (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    let session =
        state.store.session(&id).await?.ok_or(ApiError::NotFound("configuration session"))?;
    super::require_active(&state, &session.org_id, "configuration session").await?;
    Ok(Json(SessionView::new(session, &state.public_url)))
}

/// A configuration change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationChange {
    /// The new configuration.
    pub configuration: Configuration,
}

/// Change the configuration; answers the price to show now (base `pending` while the
/// organisation prices it, or `confirmed`).
#[utoipa::path(put, path = "/public/v1/configuration-sessions/{id}/configuration", tag = "public",
    params(("id" = String, Path)), request_body = ConfigurationChange, security(()),
    responses((status = 200, body = SessionPricing), (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`already_submitted`; `concurrent_changes` when the session \
            kept changing under the request (send it again)", body = crate::http::error::ErrorBody),
        (status = 422, description = "Invalid configuration, with JSON paths", body = crate::http::error::ErrorBody)))]
async fn update_configuration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<ConfigurationChange>,
) -> ApiResult<Json<SessionPricing>> {
    let not_found = || ApiError::NotFound("configuration session");
    // Started from this process's latest view of the session, which the write checks.
    let mut session = state.store.recent_session(&id).await?.ok_or_else(not_found)?;
    let (org, template) = org_and_current_template(&state.store, &session).await?;
    let submitted = || ApiError::conflict("already_submitted", "this session has been submitted");
    if session.submission_id.is_some() {
        return Err(submitted());
    }
    let configuration =
        body.configuration.validate(&template, "configuration").map_err(ApiError::Validation)?;
    for _ in 0..CHANGE_ATTEMPTS {
        let change = state.pricer.change_configuration(&org, &session, &template, &configuration);
        if let Some(pricing) = change.await? {
            return Ok(Json(pricing));
        }
        // The session changed since it was read (a racing change, an answer, a submission):
        // work the change out again on what is stored now.
        session = state.store.session(&id).await?.ok_or_else(not_found)?;
        if session.submission_id.is_some() {
            return Err(submitted());
        }
    }
    Err(ApiError::conflict(
        "concurrent_changes",
        "the session kept changing; send the change again",
    ))
}

/// How often a configuration change is worked out again when the session keeps changing
/// under it (each failed try means another change of the session succeeded).
const CHANGE_ATTEMPTS: usize = 64;

/// Follow the session's price: one `pricing` event (id = sequence number) per change,
/// starting with the current price; `Last-Event-ID` skips what the client already has.
/// Open streams are capped per session and per server (`max_sse_streams_per_session`,
/// `max_sse_streams`); a stream's place is free again as soon as it closes.
#[utoipa::path(get, path = "/public/v1/configuration-sessions/{id}/stream", tag = "public",
    params(("id" = String, Path)), security(()),
    responses((status = 200, description = "`text/event-stream` of `pricing` events", content_type = "text/event-stream"),
        (status = 404, body = crate::http::error::ErrorBody),
        (status = 429, description = "`too_many_streams`: the session has as many open streams as it may", body = crate::http::error::ErrorBody),
        (status = 503, description = "`stream_capacity_reached`: the server has as many open streams as it allows", body = crate::http::error::ErrorBody)))]
async fn stream_pricing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Taken first, so a refused stream costs neither a subscription nor a database read.
    // The stream owns the slot; hyper drops the stream when it ends or the client leaves.
    let slot = state.streams.try_acquire(id.clone()).map_err(|full| match full {
        Full::Key => ApiError::TooManyStreams(state.streams.max_per_key()),
        Full::Total => ApiError::StreamCapacityReached,
    })?;
    // Subscribe before reading, so nothing between the read and the subscription is lost.
    let mut events = state.pricer.subscribe(&id);
    let session =
        state.store.session(&id).await?.ok_or(ApiError::NotFound("configuration session"))?;
    super::require_active(&state, &session.org_id, "configuration session").await?;
    state.pricer.resume_if_orphaned(&session).await?;
    let resume_from = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let mut stopping = state.stopping.clone();
    let open = crate::telemetry::OpenStream::opened();
    let stream = async_stream::stream! {
        let _slot = slot;
        let _open = open;
        let mut last = resume_from;
        if session.pricing_seq > last {
            last = session.pricing_seq;
            yield Ok(pricing_event(session.pricing_seq, &session.pricing));
        }
        loop {
            let received = tokio::select! {
                received = events.recv() => received,
                _ = stopping.wait_for(|stop| *stop) => break, // the server is shutting down
            };
            match received {
                Ok(event) if event.seq > last => {
                    last = event.seq;
                    yield Ok(pricing_event(event.seq, &event.pricing));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}

fn pricing_event(seq: i64, pricing: &SessionPricing) -> Event {
    Event::default()
        .event("pricing")
        .id(seq.to_string())
        .json_data(pricing)
        .unwrap_or_else(|_| Event::default().event("pricing").id(seq.to_string()))
}

/// A submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitSession {
    /// Who submits.
    pub customer: Customer,
    /// Free text.
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
    /// How many units of this configuration (default 1).
    #[schema(minimum = 1, maximum = 10000)]
    pub unit_amount: Option<i64>,
}

/// The stored submission with its frozen price.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionReceipt {
    /// `sub_…`
    pub id: String,
    /// The configuration priced.
    pub config_hash: String,
    /// The price as frozen.
    pub pricing: FrozenPricing,
}

impl SubmitSession {
    fn validate(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let customer = &self.customer;
        if customer.name.trim().is_empty() || customer.name.chars().count() > 200 {
            errors.push(FieldError::new("customer.name", "1 to 200 characters"));
        }
        if !is_email(&customer.email) {
            errors.push(FieldError::new("customer.email", "not an email address"));
        }
        if customer.phone.as_ref().is_some_and(|p| p.chars().count() > 50) {
            errors.push(FieldError::new("customer.phone", "at most 50 characters"));
        }
        if customer.company_name.as_ref().is_some_and(|c| c.chars().count() > 200) {
            errors.push(FieldError::new("customer.companyName", "at most 200 characters"));
        }
        if self.notes.as_ref().is_some_and(|n| n.chars().count() > 5000) {
            errors.push(FieldError::new("notes", "at most 5000 characters"));
        }
        if self.unit_amount.is_some_and(|n| !(1..=10_000).contains(&n)) {
            errors.push(FieldError::new("unitAmount", "between 1 and 10000"));
        }
        if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
    }
}

/// Submit the session: freezes the matching adjustment (or the org's answer to context
/// `submission`, or base pricing after `timeoutMs`) and emits `submission.created`.
#[utoipa::path(post, path = "/public/v1/configuration-sessions/{id}/submit", tag = "public",
    params(("id" = String, Path)), request_body = SubmitSession, security(()),
    responses((status = 201, body = SubmissionReceipt), (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`already_submitted`", body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn submit_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SubmitSession>,
) -> ApiResult<(StatusCode, Json<SubmissionReceipt>)> {
    body.validate()?;
    let new = NewSubmission {
        customer: body.customer,
        notes: body.notes,
        unit_amount: body.unit_amount,
        locale: customer_locale(&headers),
    };
    let submission =
        submissions::submit(&state.store, &state.pricer, &state.public_url, &id, new).await?;
    let receipt = SubmissionReceipt {
        pricing: FrozenPricing::of(&submission),
        id: submission.id,
        config_hash: submission.config_hash,
    };
    Ok((StatusCode::CREATED, Json(receipt)))
}
