//! Contacts: idempotent upsert by email (CRM → WinFactor), lookup by email, the
//! `externalRef` link back.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::{decode_cursor, next_cursor, page_limit};
use crate::store::{Contact, ContactChanges, ContactDetails};
use crate::validation::FieldError;
use crate::validation::is_email;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts, upsert_contact))
        .routes(routes!(get_contact, update_contact))
}

/// A contact to create or update, keyed by email (case-insensitive).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpsertContact {
    /// The key.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Phone (kept when omitted).
    #[schema(min_length = 1, max_length = 50)]
    pub phone: Option<String>,
    /// Company (kept when omitted).
    #[schema(min_length = 1, max_length = 200)]
    pub company_name: Option<String>,
    /// `system:type:id` (kept when omitted).
    #[schema(min_length = 1, max_length = 200)]
    pub external_ref: Option<String>,
}

fn check_text(errors: &mut Vec<FieldError>, path: &str, value: Option<&str>, max: usize) {
    if value.is_some_and(|v| v.trim().is_empty() || v.chars().count() > max) {
        errors.push(FieldError::new(path, format!("1 to {max} characters")));
    }
}

/// Create or update the contact with this email; the same body twice gives the same
/// contact (201 when created, 200 when it existed).
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = UpsertContact,
    responses((status = 200, body = Contact), (status = 201, body = Contact), super::AuthErrors,
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn upsert_contact(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Json(body): Json<UpsertContact>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    let mut errors = Vec::new();
    if !is_email(&body.email) {
        errors.push(FieldError::new("email", "not an email address"));
    }
    check_text(&mut errors, "name", Some(&body.name), 200);
    check_text(&mut errors, "phone", body.phone.as_deref(), 50);
    check_text(&mut errors, "companyName", body.company_name.as_deref(), 200);
    check_text(&mut errors, "externalRef", body.external_ref.as_deref(), 200);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let existed = state.store.contact_by_email(&auth.org.id, &body.email).await?.is_some();
    let details = ContactDetails {
        email: body.email,
        name: body.name.trim().to_owned(),
        phone: body.phone,
        company_name: body.company_name,
        external_ref: body.external_ref,
    };
    let contact = state.store.upsert_contact(&auth.org.id, &details).await?;
    Ok((if existed { StatusCode::OK } else { StatusCode::CREATED }, Json(contact)))
}

/// Filters of `GET /api/v1/contacts`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Only the contact with this email (case-insensitive).
    pub email: Option<String>,
    /// Created after (epoch ms).
    pub created_after: Option<i64>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactList {
    /// Oldest first.
    pub data: Vec<Contact>,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// List contacts, or look one up by `?email=`.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = ContactList), super::AuthErrors))]
async fn list_contacts(
    auth: ApiAuth,
    State(state): State<AppState>,
    Query(query): Query<ContactQuery>,
) -> ApiResult<Json<ContactList>> {
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let data = state
        .store
        .list_contacts(&auth.org.id, query.email.as_deref(), query.created_after, after, limit)
        .await?;
    let next_cursor = next_cursor(&data, limit, |c| (c.created_at, &c.id));
    Ok(Json(ContactList { data, next_cursor }))
}

/// Read one contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = Contact), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn get_contact(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(state.store.contact(&auth.org.id, &id).await?.ok_or(ApiError::NotFound("contact"))?))
}

/// Changes to a contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateContact {
    /// Name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Phone; null clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 50)]
    pub phone: Option<Option<String>>,
    /// Company; null clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub company_name: Option<Option<String>>,
    /// `system:type:id`; null clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub external_ref: Option<Option<String>>,
}

/// Update a contact (e.g. write back the CRM's id as `externalRef`).
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    request_body = UpdateContact,
    responses((status = 200, body = Contact), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn update_contact(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<UpdateContact>,
) -> ApiResult<Json<Contact>> {
    let mut errors = Vec::new();
    check_text(&mut errors, "name", body.name.as_deref(), 200);
    check_text(&mut errors, "phone", body.phone.as_ref().and_then(Option::as_deref), 50);
    check_text(
        &mut errors,
        "companyName",
        body.company_name.as_ref().and_then(Option::as_deref),
        200,
    );
    check_text(
        &mut errors,
        "externalRef",
        body.external_ref.as_ref().and_then(Option::as_deref),
        200,
    );
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let changes = ContactChanges {
        name: body.name.map(|n| n.trim().to_owned()),
        phone: body.phone,
        company_name: body.company_name,
        external_ref: body.external_ref,
    };
    let contact = state.store.update_contact(&auth.org.id, &id, &changes).await?;
    Ok(Json(contact.ok_or(ApiError::NotFound("contact"))?))
}
