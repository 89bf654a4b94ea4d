//! The customer's quote page: `GET /public/v1/quotes/{viewToken}` (HTML for browsers, JSON
//! on `Accept: application/json`; the first view emits `quote.viewed`), and the decision —
//! accept (`quote.accepted`) or reject (`quote.rejected`), once, while the quote is valid.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::{LineItem, money};
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path};
use crate::http::{AppState, pdf_response};
use crate::locale::Formatter;
use crate::orgs::{Org, currency_symbol};
use crate::services::customer_quotes::{self, CustomerQuote, Decision};
use crate::services::events::{Acceptance, Rejection, Visitor};
use crate::services::submissions::Customer;
use crate::store::Quote;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(view_quote))
        .routes(routes!(accept_quote))
        .routes(routes!(reject_quote))
        .routes(routes!(download_pdf))
}

/// Who is on the page: the client's address and `User-Agent`.
fn visitor(client: IpAddr, headers: &HeaderMap) -> Visitor {
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Visitor { ip_address: client.to_string(), user_agent }
}

/// The quote as its customer sees it (`Accept: application/json`); amounts are numbers like
/// in every other answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuoteView {
    /// `Q-2026-0042`
    pub number: String,
    /// Current version.
    pub version: i64,
    /// `sent`, `accepted`, `rejected`, `expired` (or `draft`).
    pub status: String,
    /// Who quotes.
    pub organization: QuoteIssuer,
    /// The submission's customer block (`null` when the submission is gone).
    #[schema(value_type = Option<Customer>)]
    pub customer: Value,
    /// ISO 4217.
    pub currency: String,
    /// The currency's symbol.
    pub currency_symbol: &'static str,
    /// Sum of the line totals.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub subtotal: Decimal,
    /// What the customer pays (taxes are not modelled: equals the subtotal).
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub total: Decimal,
    /// The current version's breakdown.
    pub line_items: Vec<LineItem>,
    /// Epoch ms.
    pub valid_until: i64,
    /// Free text.
    pub reference: Option<String>,
}

/// The `organization` block of [`CustomerQuoteView`].
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteIssuer {
    /// Display name.
    pub name: String,
    /// Logo URL, if set.
    pub logo_url: Option<String>,
}

/// The customer's quote page (HTML, or JSON on `Accept: application/json`); the first view
/// emits `quote.viewed`.
#[utoipa::path(get, path = "/public/v1/quotes/{viewToken}", tag = "public", params(("viewToken" = String, Path)),
    security(()),
    responses((status = 200, description = "HTML page, or the quote as JSON (`Accept: application/json`)",
            content((CustomerQuoteView = "application/json"), (String = "text/html"))),
        (status = 404, body = crate::http::error::ErrorBody)))]
async fn view_quote(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let shown = customer_quotes::by_view_token(&state.store, &token).await?;
    let visitor = visitor(client, &headers);
    customer_quotes::record_view(&state.store, &state.public_url, &shown, visitor).await?;
    let CustomerQuote { quote, org, customer, locale } = shown;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    if wants_json {
        let view = CustomerQuoteView {
            number: quote.number,
            version: quote.version,
            status: quote.status,
            organization: QuoteIssuer { name: org.name, logo_url: org.logo_url },
            customer,
            currency_symbol: currency_symbol(&quote.currency),
            currency: quote.currency,
            subtotal: quote.pricing.subtotal,
            total: quote.pricing.subtotal,
            line_items: quote.pricing.line_items,
            valid_until: quote.valid_until,
            reference: quote.reference,
        };
        return Ok(axum::Json(view).into_response());
    }
    let logo = state.store.org_logo(&org.id).await?.is_some();
    let format = Formatter::new(
        locale.as_deref().into_iter().chain([org.locale.as_str()]),
        &quote.currency,
    )?;
    Ok(Html(render(&org, &quote, &token, &format, logo)).into_response())
}

/// The quote's PDF, for the customer (once sent).
#[utoipa::path(get, path = "/public/v1/quotes/{viewToken}/pdf", tag = "public", params(("viewToken" = String, Path)),
    security(()),
    responses((status = 200, description = "The PDF", body = crate::http::FileBytes, content_type = "application/pdf"), (status = 404, body = crate::http::error::ErrorBody)))]
async fn download_pdf(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let shown = customer_quotes::by_view_token(&state.store, &token).await?;
    let pdf = customer_quotes::pdf(&state.store, &shown, &state.public_url).await?;
    Ok(pdf_response(&shown.quote.number, pdf))
}

/// Acceptance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// Who accepts.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// Rejection.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    /// Why, optionally.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Accept the quote (once, while sent and valid); emits `quote.accepted`.
#[utoipa::path(post, path = "/public/v1/quotes/{viewToken}/accept", tag = "public", params(("viewToken" = String, Path)),
    request_body = Accept, security(()),
    responses((status = 200, description = "Accepted", body = Decided), (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`quote_not_open`: expired, not sent, or already decided", body = crate::http::error::ErrorBody),
        (status = 422, body = crate::http::error::ErrorBody)))]
async fn accept_quote(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Json(body): Json<Accept>,
) -> ApiResult<Json<Decided>> {
    if body.name.trim().is_empty() || body.name.chars().count() > 200 {
        return Err(ApiError::invalid_field("name", "1 to 200 characters"));
    }
    let acceptance = Acceptance {
        accepted_at: now_ms(),
        accepted_by_name: body.name.trim().to_owned(),
        visitor: visitor(client, &headers),
    };
    decide(&state, &token, Decision::Accept(acceptance)).await
}

/// Reject the quote (once, while sent and valid); emits `quote.rejected`.
#[utoipa::path(post, path = "/public/v1/quotes/{viewToken}/reject", tag = "public", params(("viewToken" = String, Path)),
    request_body = Reject, security(()),
    responses((status = 200, description = "Rejected", body = Decided), (status = 404, body = crate::http::error::ErrorBody),
        (status = 409, description = "`quote_not_open`", body = crate::http::error::ErrorBody)))]
async fn reject_quote(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Decided>> {
    let body: Reject = crate::http::extract::optional_json(&body)?;
    if body.reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::invalid_field("reason", "at most 2000 characters"));
    }
    let rejection = Rejection {
        rejected_at: now_ms(),
        reason: body.reason,
        visitor: visitor(client, &headers),
    };
    decide(&state, &token, Decision::Reject(rejection)).await
}

/// A decided quote: its number and new status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    /// `Q-2026-0042`
    pub number: String,
    /// `accepted` or `rejected`.
    pub status: String,
}

/// Decides the quote and answers its number and new status.
async fn decide(state: &AppState, token: &str, decision: Decision) -> ApiResult<Json<Decided>> {
    let decided = customer_quotes::decide(&state.store, &state.public_url, token, decision).await?;
    Ok(Json(Decided { number: decided.number, status: decided.status }))
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The quote page; with the organisation's uploaded logo when `logo`.
fn render(org: &Org, quote: &Quote, token: &str, format: &Formatter, logo: bool) -> String {
    let logo = match logo {
        true => format!(
            r#"<img src="/public/v1/orgs/{}/logo" alt="{}" style="max-height:56px;max-width:200px">"#,
            escape(&org.slug),
            escape(&org.name)
        ),
        false => String::new(),
    };
    let rows: String = quote
        .pricing
        .line_items
        .iter()
        .map(|item| {
            format!(
                "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td></tr>",
                escape(&item.description),
                format.number(item.quantity),
                format.money(item.unit_price),
                format.money(item.total)
            )
        })
        .collect();
    let open = quote.status == "sent" && quote.valid_until > now_ms();
    let actions = if open {
        format!(
            r#"<form id=decide><label for=name>Your name</label> <input id=name name=name required autocomplete=name>
<button type=submit data-action=accept>Accept quote</button>
<button type=button data-action=reject class=secondary>Decline</button></form>
<p id=result role=status></p>
<script>
const base = "/public/v1/quotes/{token}";
async function send(action, body) {{
  const response = await fetch(base + "/" + action, {{method: "POST", headers: {{"content-type": "application/json"}}, body: JSON.stringify(body)}});
  const answer = await response.json();
  document.getElementById("result").textContent = response.ok ? "Thank you: the quote is " + answer.status + "." : answer.error.message;
  if (response.ok) document.getElementById("decide").hidden = true;
}}
document.getElementById("decide").addEventListener("submit", e => {{ e.preventDefault(); send("accept", {{name: document.getElementById("name").value}}); }});
document.querySelector("[data-action=reject]").addEventListener("click", () => send("reject", {{}}));
</script>"#
        )
    } else {
        format!("<p class=status>This quote is {}.</p>", escape(&quote.status))
    };
    format!(
        r#"<!doctype html><html lang="{locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Quote {number} — {org}</title><style>{STYLE}</style></head><body><main>
<header>{logo}<h1>{org}</h1><p>Quote <strong>{number}</strong> · version {version} · valid until {valid}</p></header>
<table><thead><tr><th>Item</th><th class=num>Qty</th><th class=num>Unit price</th><th class=num>Total</th></tr></thead>
<tbody>{rows}</tbody><tfoot><tr><th colspan=3>Total</th><th class=num>{total}</th></tr></tfoot></table>
<p><a href="/public/v1/quotes/{token}/pdf">Download PDF</a></p>
{actions}</main></body></html>"#,
        locale = escape(&format.locale()),
        number = escape(&quote.number),
        org = escape(&org.name),
        version = quote.version,
        valid = format.date(quote.valid_until),
        total = format.money(quote.pricing.subtotal),
    )
}

/// Shared styling of the customer pages.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
main{max-width:760px;margin:2rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0001}\
h1{margin:0 0 .25rem;font-size:1.5rem}table{width:100%;border-collapse:collapse;margin:1.5rem 0}\
th,td{padding:.5rem;border-bottom:1px solid #e4e6eb;text-align:left}.num{text-align:right}\
tfoot th{font-size:1.1rem}button{background:#1f6feb;color:#fff;border:0;border-radius:6px;padding:.6rem 1.1rem;\
font-size:1rem;cursor:pointer;margin:.5rem .5rem 0 0}button.secondary{background:#e4e6eb;color:#1d2330}\
input{padding:.5rem;border:1px solid #c8ccd4;border-radius:6px;font-size:1rem}";
