//! Getting quotes out: send (`quote.sent` and the mail queued in one transaction, the mail
//! with the PDF over SMTP after commit when configured), prepare and download PDFs, the
//! auto-fill, the mail outbox.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::quotes::{QuoteView, event_data, find, view};
use crate::clock::now_ms;
use crate::http::AppState;
use crate::http::auth::{ApiAuth, WriteAccess};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::orgs::Org;
use crate::outbox::{self, EventType, NewEvent};
use crate::store::{OutboxMail, Quote};
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
    if !matches!(quote.status.as_str(), "draft" | "sent") {
        return Err(ApiError::conflict("quote_closed", format!("the quote is {}", quote.status)));
    }
    let submission = state.store.submission(&auth.org.id, &quote.submission_id).await?;
    let customer = submission.as_ref().map(|s| s.customer.clone()).unwrap_or(Value::Null);
    let view_url = format!("{}/public/v1/quotes/{}", state.public_url, quote.view_token);
    let mail = OutboxMail {
        recipients: body.recipients,
        subject: format!("Your quote {} from {}", quote.number, auth.org.name),
        body: format!(
            "Hello,\n\nyour quote {} (version {}) is ready: {view_url}\n\nKind regards,\n{}",
            quote.number, quote.version, auth.org.name
        ),
        quote_id: Some(quote.id.clone()),
    };
    // A server that is down fails the request while nothing has changed; the mail itself
    // leaves only once the send is committed, so no customer gets a quote still a draft.
    state.mailer.check_server().await.map_err(ApiError::MailFailed)?;
    let mut tx = state.store.begin().await?;
    if !tx.mark_quote_sent(&quote.id, quote.version).await? {
        return Err(ApiError::conflict(
            "quote_changed",
            "the quote changed meanwhile: read it again",
        ));
    }
    // With SMTP the mail is queued already claimed for this request's attempt below.
    let lease_until = state.mailer.smtp().then(|| state.mailer.lease_end(now_ms()));
    let queued = tx.queue_mail(&auth.org.id, &mail, quote.version, lease_until).await?;
    let sent = Quote { status: "sent".into(), ..quote };
    let mut data = event_data(&state.public_url, &auth.org, &sent, &customer);
    data["urls"]["viewQuote"] = json!(view_url);
    let event = NewEvent {
        event_type: EventType::QuoteSent,
        customer_locale: submission.and_then(|s| s.customer_locale),
        data,
        expires_at: None,
    };
    outbox::emit(&mut tx, &auth.org, event).await?;
    tx.commit().await?;
    if let Some(claimed) = queued {
        crate::mail::outbox::deliver_now(state.store.clone(), state.mailer.clone(), claimed).await;
    }
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
    quote_pdf(&state, &auth.org, &quote).await?;
    state.store.mark_quote_pdf_ready(&auth.org.id, &id).await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}

/// Download the quote PDF (once `pdf.status` is `ready`).
#[utoipa::path(get, path = "/api/v1/quotes/{id}/pdf", tag = "quotes", params(("id" = String, Path)),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"), super::AuthErrors,
        (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`pdf_not_ready`: prepare or send the quote first", body = crate::http::error::ErrorBody)))]
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
    Ok(crate::pdf::quote_document(&state.store, org, quote).await?)
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
    responses((status = 200, body = QuoteView), super::AuthErrors, (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`quote_sent` or `quote_closed`: only drafts are auto-filled", body = crate::http::error::ErrorBody)))]
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
    let request = crate::pricing::session_request(
        &auth.org,
        &session,
        &template,
        &submission.configuration,
        crate::catalog::PricingContext::Autofill,
    )
    .with_submission(context);
    let (pricing, _) = state.pricer.price_for_autofill(&auth.org, &session, request).await?;
    let mut tx = state.store.begin().await?;
    tx.replace_quote_items(&quote, &pricing).await?;
    tx.commit().await?;
    Ok(Json(view(&state, find(&state, &auth.org.id, &id).await?).await?))
}
