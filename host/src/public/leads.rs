//! `POST /public/v1/orgs/{orgSlug}/leads`: the public contact form. Stores the lead and
//! emits `lead.created` in the same transaction.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now_ms;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::ids::new_id;
use crate::outbox::{self, EventType, NewEvent};
use crate::store::{Lead, LeadStatus};
use crate::validation::FieldError;
use crate::validation::is_email;

/// Characters of the message kept in `messagePreview` before the ellipsis.
pub const PREVIEW_CHARS: usize = 72;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_lead))
}

/// A contact-form submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadForm {
    /// Who is writing.
    pub name: String,
    /// Where to answer.
    pub email: String,
    /// Optional phone.
    pub phone: Option<String>,
    /// What they want.
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
        if self.name.trim().is_empty() || self.name.len() > 200 {
            errors.push(FieldError::new("name", "1 to 200 characters"));
        }
        if !is_email(&self.email) {
            errors.push(FieldError::new("email", "not an email address"));
        }
        if self.phone.as_ref().is_some_and(|p| p.len() > 50) {
            errors.push(FieldError::new("phone", "at most 50 characters"));
        }
        if self.message.trim().is_empty() || self.message.len() > 5000 {
            errors.push(FieldError::new("message", "1 to 5000 characters"));
        }
        if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
    }
}

/// The first [`PREVIEW_CHARS`] characters of a message, with `...` when cut.
pub fn message_preview(message: &str) -> String {
    if message.chars().count() <= PREVIEW_CHARS + 3 {
        return message.to_owned();
    }
    let cut: String = message.chars().take(PREVIEW_CHARS).collect();
    format!("{}...", cut.trim_end())
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
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(org_slug): Path<String>,
    Json(form): Json<LeadForm>,
) -> ApiResult<(StatusCode, Json<LeadCreated>)> {
    let org =
        state.store.org_by_slug(&org_slug).await?.ok_or(ApiError::NotFound("organisation"))?;
    form.validate()?;
    if !state.lead_limiter.allow(client.ip()) {
        return Err(ApiError::RateLimited);
    }
    let now = now_ms();
    let lead = Lead {
        id: new_id("lead"),
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        phone: form.phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        message: form.message,
        status: LeadStatus::New,
        created_at: now,
        updated_at: now,
    };
    let data = json!({
        "lead": { "id": lead.id, "createdAt": lead.created_at },
        "contact": {
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "message": lead.message,
            "messagePreview": message_preview(&lead.message),
        },
        "urls": { "leadsPage": format!("{}/api/v1/leads?status=new", state.public_url) },
    });
    let event = NewEvent {
        event_type: EventType::LeadCreated,
        customer_locale: Some(customer_locale(&headers).unwrap_or_else(|| org.locale.clone())),
        data,
        expires_at: None,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_lead(&org.id, &lead).await?;
    outbox::emit(&mut tx, &org, event).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(LeadCreated { id: lead.id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_matches_the_catalog_example() {
        let message =
            "I am interested in custom sliding doors for my showroom. Can you provide a quote?";
        assert_eq!(
            message_preview(message),
            "I am interested in custom sliding doors for my showroom. Can you provide..."
        );
        assert_eq!(message_preview("Short note."), "Short note.");
    }
}
