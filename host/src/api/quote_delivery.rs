//! Getting quotes out: send (SMTP when configured, the mail outbox always, the PDF
//! attached, `quote.sent`), prepare and download PDFs, the auto-fill, the mail outbox.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{ApiAuth, WriteAccess};
use super::extract::{Json, Path};
use super::organization::is_email;
use super::quotes::{QuoteView, event_data, find, view};
use crate::AppState;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::events::{self, EventType, NewEvent};
use crate::mail::MailAttachment;
use crate::orgs::Org;
use crate::store::{OutboxMail, Quote};

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
    pub recipients: Vec<String>,
}

/// Send the quote: a mail with the link to the customer's quote page and the PDF attached
/// goes out over SMTP (when configured) and into the mail outbox, the quote becomes `sent`,
/// and `quote.sent` carries `urls.viewQuote`.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/send", tag = "quotes", params(("id" = String, Path)),
    request_body = SendQuote,
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
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
    if !matches!(quote.status.as_str(), "draft" | "sent") {
        return Err(ApiError::conflict("quote_closed", format!("the quote is {}", quote.status)));
    }
    let submission = state.store.submission(&auth.org.id, &quote.submission_id).await?;
    let customer = submission.as_ref().map(|s| s.customer.clone()).unwrap_or(Value::Null);
    let view_url = format!("{}/public/v1/quotes/{}", state.config.public_url, quote.view_token);
    let mail = OutboxMail {
        recipients: body.recipients,
        subject: format!("Your quote {} from {}", quote.number, auth.org.name),
        body: format!(
            "Hello,\n\nyour quote {} (version {}) is ready: {view_url}\n\nKind regards,\n{}",
            quote.number, quote.version, auth.org.name
        ),
        quote_id: Some(quote.id.clone()),
    };
    // The mail goes out first: if the server refuses it, nothing changes.
    let pdf = quote_pdf(&state, &auth.org, &quote).await?;
    let attachment = MailAttachment {
        filename: format!("{}.pdf", quote.number),
        content_type: "application/pdf",
        bytes: pdf,
    };
    state.mailer.send(&mail, Some(attachment)).await.map_err(ApiError::MailFailed)?;
    let mut tx = state.store.begin().await?;
    tx.insert_mail(&auth.org.id, &mail).await?;
    tx.mark_quote_sent(&quote.id).await?;
    let sent = Quote { status: "sent".into(), ..quote };
    let mut data = event_data(&state.config.public_url, &auth.org, &sent, &customer);
    data["urls"]["viewQuote"] = json!(view_url);
    let event = NewEvent {
        event_type: EventType::QuoteSent,
        customer_locale: submission.and_then(|s| s.customer_locale),
        data,
        expires_at: None,
    };
    events::emit(&mut tx, &auth.org, event).await?;
    tx.commit().await?;
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
    /// Epoch ms.
    pub created_at: i64,
}

/// The mails the organisation sent, newest first (the outbox stands in for SMTP).
#[utoipa::path(get, path = "/api/v1/mail-outbox", tag = "quotes",
    responses((status = 200, body = Vec<MailView>), super::AuthErrors))]
async fn list_mail(auth: ApiAuth, State(state): State<AppState>) -> ApiResult<Json<Vec<MailView>>> {
    let mails = state.store.list_mail(&auth.org.id, 100).await?;
    Ok(Json(
        mails
            .into_iter()
            .map(|(id, mail, created_at)| MailView {
                id,
                recipients: mail.recipients,
                subject: mail.subject,
                body: mail.body,
                quote_id: mail.quote_id,
                created_at,
            })
            .collect(),
    ))
}

/// Render the PDF of the current version (sending does this too); `pdf.status` becomes
/// `ready`.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/prepare", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::error::ErrorBody)))]
async fn prepare_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<QuoteView>> {
    let quote = find(&state, &auth.org.id, &id).await?;
    quote_pdf(&state, &auth.org, &quote).await?;
    state.store.mark_quote_pdf_ready(&auth.org.id, &id).await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}

/// Download the quote PDF (once `pdf.status` is `ready`).
#[utoipa::path(get, path = "/api/v1/quotes/{id}/pdf", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"), super::AuthErrors,
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`pdf_not_ready`: prepare or send the quote first", body = crate::error::ErrorBody)))]
async fn download_quote_pdf(
    auth: ApiAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let quote = find(&state, &auth.org.id, &id).await?;
    if quote.pdf_version != Some(quote.version) {
        return Err(ApiError::conflict("pdf_not_ready", "prepare or send the quote first"));
    }
    Ok(pdf_response(&quote, quote_pdf(&state, &auth.org, &quote).await?))
}

/// The quote's PDF bytes.
pub(crate) async fn quote_pdf(state: &AppState, org: &Org, quote: &Quote) -> ApiResult<Vec<u8>> {
    let submission = state.store.submission(&org.id, &quote.submission_id).await?;
    let customer = submission.map(|s| s.customer).unwrap_or(Value::Null);
    Ok(crate::pdf::render_quote(org, quote, &customer))
}

/// An `application/pdf` answer named after the quote number.
pub(crate) fn pdf_response(quote: &Quote, pdf: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let disposition = format!("inline; filename=\"{}.pdf\"", quote.number);
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response()
}

/// An organisation user's auto-fill: fires `pricing.calculated` (context `autofill`) for the
/// submission's configuration, waits up to `timeoutMs`, and fills the draft's line items
/// from the answer (else base pricing).
#[utoipa::path(post, path = "/api/v1/quotes/{id}/autofill", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`quote_sent` or `quote_closed`: only drafts are auto-filled", body = crate::error::ErrorBody)))]
async fn autofill_quote(
    WriteAccess(auth): WriteAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<QuoteView>> {
    let quote = find(&state, &auth.org.id, &id).await?;
    if quote.status != "draft" {
        return Err(ApiError::conflict(
            "quote_sent",
            "only a draft is auto-filled: revise the quote instead",
        ));
    }
    let submission = state
        .store
        .submission(&auth.org.id, &quote.submission_id)
        .await?
        .ok_or(ApiError::NotFound("submission"))?;
    let session = state
        .store
        .session(&submission.session_id)
        .await?
        .ok_or(ApiError::NotFound("configuration session"))?;
    let template = state
        .store
        .template(&auth.org.id, &submission.template_id)
        .await?
        .ok_or(ApiError::NotFound("template"))?;
    let context = json!({ "id": submission.id, "customer": submission.customer, "notes": submission.notes, "quoteId": quote.id });
    let (pricing, _) = state
        .pricer
        .price_for_autofill(&auth.org, &session, &template, &submission.configuration, context)
        .await?;
    let mut tx = state.store.begin().await?;
    tx.replace_quote_items(&quote, &pricing).await?;
    tx.commit().await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}
