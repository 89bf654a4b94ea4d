//! Getting quotes out: send (`quote.sent` and the mail queued in one transaction, the mail
//! with the PDF over SMTP after commit when configured), prepare and download PDFs, the
//! auto-fill, the mail outbox.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::quotes::{QuoteView, find, view};
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::{AppState, pdf_response};
use crate::services::{quote_sending, quotes};
use crate::validation::FieldError;
use crate::validation::is_email;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_quote))
        .routes(routes!(prepare_quote))
        .routes(routes!(autofill_quote))
        .routes(routes!(download_quote_pdf))
        .routes(routes!(list_mail))
}

/// Who receives the quote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendQuote {
    /// Email addresses.
    #[schema(min_items = 1, max_items = 20)]
    pub recipients: Vec<String>,
}

/// Send the quote: it becomes `sent`, `quote.sent` (with `urls.viewQuote`) is emitted and a
/// mail with the link to the customer's quote page is queued in the mail outbox, all in one
/// transaction. With SMTP configured the mail (PDF attached) goes out after that commit:
/// first from this request, then retried by the worker until the server takes it (its
/// state is in the mail outbox). A mail server that cannot be reached or refuses the
/// connection answers 502 `mail_delivery_failed` before anything changes.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/send", tag = "quotes", params(("id" = String, Path)),
    request_body = SendQuote,
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`quote_closed`, or `quote_changed` (revised or decided meanwhile)", body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody),
        (status = 502, description = "`mail_delivery_failed`: the mail server is unreachable; nothing changed", body = crate::http::error::ErrorBody)))]
async fn send_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<SendQuote>,
) -> ApiResult<Json<QuoteView>> {
    let mut errors = Vec::new();
    if body.recipients.is_empty() || body.recipients.len() > 20 {
        errors.push(FieldError::new("recipients", "1 to 20 addresses"));
    }
    for (index, recipient) in body.recipients.iter().enumerate() {
        if !is_email(recipient) {
            errors.push(FieldError::new(format!("recipients[{index}]"), "not an email address"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let quote = find(&state, &auth.org.id, &id).await?;
    let (store, mailer) = (&state.store, &state.mailer);
    quote_sending::send(store, mailer, &state.public_url, &auth.org, quote, body.recipients)
        .await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}

/// A mail in the outbox.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailView {
    /// `mail_…`
    pub id: String,
    /// Addresses.
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The quote it carries.
    pub quote_id: Option<String>,
    /// `pending` (waiting for an SMTP attempt), `sent` (the server took it), `failed`
    /// (refused for good, or every retry failed), `cancelled` (the quote was revised or
    /// decided before it left), `recorded` (no SMTP server configured: the outbox only).
    pub status: String,
    /// SMTP attempts so far.
    pub attempts: i64,
    /// The last failed attempt's error, or why it was cancelled.
    pub last_error: Option<String>,
    /// When the server took it (epoch ms).
    pub sent_at: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
}

/// The organisation's mails, newest first, with their delivery state.
#[utoipa::path(get, path = "/api/v1/mail-outbox", tag = "quotes",
    responses((status = 200, body = Vec<MailView>), super::AuthErrors))]
async fn list_mail(auth: ApiAuth, State(state): State<AppState>) -> ApiResult<Json<Vec<MailView>>> {
    let mails = state.store.list_mail(&auth.org.id, 100).await?;
    Ok(Json(
        mails
            .into_iter()
            .map(|record| MailView {
                id: record.id,
                recipients: record.mail.recipients,
                subject: record.mail.subject,
                body: record.mail.body,
                quote_id: record.mail.quote_id,
                status: record.status.as_str().to_owned(),
                attempts: record.attempts,
                last_error: record.last_error,
                sent_at: record.sent_at,
                created_at: record.created_at,
            })
            .collect(),
    ))
}

/// Render the PDF of the current version (sending does this too); `pdf.status` becomes
/// `ready`.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/prepare", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody)))]
async fn prepare_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<QuoteView>> {
    let quote = find(&state, &auth.org.id, &id).await?;
    quotes::prepare_pdf(&state.store, &auth.org, &quote, &state.public_url).await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}

/// Download the quote PDF (once `pdf.status` is `ready`).
#[utoipa::path(get, path = "/api/v1/quotes/{id}/pdf", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, description = "The PDF", body = crate::http::FileBytes, content_type = "application/pdf"), super::AuthErrors,
        (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`pdf_not_ready`: prepare or send the quote first", body = crate::http::error::ErrorBody)))]
async fn download_quote_pdf(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let quote = find(&state, &auth.org.id, &id).await?;
    let pdf = quotes::prepared_pdf(&state.store, &auth.org, &quote, &state.public_url).await?;
    Ok(pdf_response(&quote.number, pdf))
}

/// An organisation user's auto-fill: fires `pricing.calculated` (context `autofill`) for the
/// submission's configuration, waits up to `timeoutMs`, and fills the draft's line items
/// from the answer (else base pricing).
#[utoipa::path(post, path = "/api/v1/quotes/{id}/autofill", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`quote_sent` or `quote_closed`: only drafts are auto-filled", body = crate::http::error::ErrorBody)))]
async fn autofill_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<QuoteView>> {
    let quote = find(&state, &auth.org.id, &id).await?;
    quotes::autofill(&state.store, &state.pricer, &auth.org, &quote).await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}
