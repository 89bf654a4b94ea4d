//! `POST /public/v1/orgs/{orgSlug}/leads`: the public contact form, validated and
//! rate-limited here, taken in by [`crate::services::leads`].

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::services::leads::{self, NewLead};
use crate::validation::FieldError;
use crate::validation::is_email;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_lead))
}

/// A contact-form submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadForm {
    /// Who is writing.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Where to answer.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Optional phone.
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// What they want.
    #[schema(min_length = 1, max_length = 5000)]
    pub message: String,
}

/// The stored lead's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadCreated {
    /// `lead_…`
    pub id: String,
}

impl LeadForm {
    fn validate(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            errors.push(FieldError::new("name", "1 to 200 characters"));
        }
        if !is_email(&self.email) {
            errors.push(FieldError::new("email", "not an email address"));
        }
        if self.phone.as_ref().is_some_and(|p| p.chars().count() > 50) {
            errors.push(FieldError::new("phone", "at most 50 characters"));
        }
        if self.message.trim().is_empty() || self.message.chars().count() > 5000 {
            errors.push(FieldError::new("message", "1 to 5000 characters"));
        }
        if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
    }
}

/// The customer's language from `Accept-Language` (`nl-BE,nl;q=0.9` → `nl`).
pub fn customer_locale(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let first = value.split([',', ';', '-']).next()?.trim().to_ascii_lowercase();
    (first.len() == 2 && first.bytes().all(|b| b.is_ascii_lowercase())).then_some(first)
}

/// Submit the organisation's contact form; emits `lead.created`. Rate-limited per client.
#[utoipa::path(post, path = "/public/v1/orgs/{orgSlug}/leads", tag = "public",
    params(("orgSlug" = String, Path)), request_body = LeadForm, security(()),
    responses((status = 201, body = LeadCreated), (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody)))]
async fn create_lead(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(org_slug): Path<String>,
    Json(form): Json<LeadForm>,
) -> ApiResult<(StatusCode, Json<LeadCreated>)> {
    let org = super::active_org(&state, &org_slug).await?;
    form.validate()?;
    state.limits.leads.check(&client)?;
    let new = NewLead {
        name: form.name,
        email: form.email,
        phone: form.phone,
        message: form.message,
        locale: customer_locale(&headers),
    };
    let lead = leads::intake(&state.store, &state.public_url, &org, new).await?;
    Ok((StatusCode::CREATED, Json(LeadCreated { id: lead.id })))
}
