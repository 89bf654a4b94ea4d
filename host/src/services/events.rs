//! The typed `data` of the events the use cases emit, one struct per event type, and
//! [`emit`], which pairs each payload with its [`EventType`] at compile time.
//!
//! Each struct serializes to exactly the JSON of the events catalog (`docs/webhooks.md`):
//! camelCase names, `null` for an absent optional value (never a missing key, except
//! `urls.viewQuote`, which only `quote.sent` carries), amounts as the catalog's numbers.
//! The tests at the bottom hold each one against the JSON it replaces. Each also derives its
//! JSON Schema (`ToSchema`, named `<Type>Data`): the event catalog (`GET
//! /api/v1/event-types`, the OpenAPI document's `webhooks`) describes exactly these.
//! `pricing.calculated` carries [`crate::catalog::PricingRequest`], emitted by the live
//! loop in [`crate::pricing`].

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::submissions::{Customer, FrozenPricing};
use crate::catalog::{LineItem, TemplateRef, money};
use crate::orgs::Org;
use crate::outbox::{self, EventType, NewEvent};
use crate::store::{Quote, Tx};

/// The `data` of one event type.
pub trait Payload: Serialize {
    /// The event type this payload is the `data` of.
    const TYPE: EventType;
}

/// Emits `payload` as its event type for `org` inside `tx`: it commits (and is delivered)
/// exactly when the change it describes does.
pub async fn emit<P: Payload>(
    tx: &mut Tx,
    org: &Org,
    customer_locale: Option<String>,
    payload: &P,
) -> anyhow::Result<()> {
    let event = NewEvent {
        event_type: P::TYPE,
        customer_locale,
        data: serde_json::to_value(payload)?,
        expires_at: None,
    };
    outbox::emit(tx, org, event).await.map(|_| ())
}

/// The `customerLocale` of a business event: the customer's language as recorded with
/// their submission or form (from `Accept-Language`), else the organisation's. Every event
/// about one customer carries the same value: `submission.created` and the `quote.*`
/// events of its quotes alike.
pub fn customer_locale(recorded: Option<&str>, org: &Org) -> String {
    recorded.unwrap_or(&org.locale).to_owned()
}

/// The `quote`, `customer`, `lineItems` and `urls` blocks every quote event carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteBlocks {
    /// The quote's summary.
    pub quote: QuoteSummary,
    /// The submission's customer block (`null` when the submission is gone).
    #[schema(value_type = Option<Customer>)]
    pub customer: Value,
    /// The current version's breakdown.
    pub line_items: Vec<LineItem>,
    /// Where to read more.
    pub urls: QuoteUrls,
}

/// The `quote` block.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteSummary {
    /// `quo_…`
    pub id: String,
    /// `Q-2026-0042`
    pub number: String,
    /// Current version.
    pub version: i64,
    /// The status after the change the event describes.
    pub status: String,
    /// What the customer pays.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub total: Decimal,
    /// ISO 4217.
    pub currency: String,
    /// The organisation's currency symbol.
    pub currency_symbol: &'static str,
    /// Epoch ms.
    pub valid_until: i64,
    /// Free text.
    pub reference: Option<String>,
}

/// The `urls` block of quote events.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteUrls {
    /// The quote in the REST API.
    pub quote_detail: String,
    /// Its submission in the REST API.
    pub submission_detail: String,
    /// The customer's quote page (`quote.sent` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_quote: Option<String>,
}

impl QuoteBlocks {
    /// The blocks of `quote` (as it is after the change) for `org`'s events.
    pub fn new(public_url: &str, org: &Org, quote: &Quote, customer: &Value) -> Self {
        Self {
            quote: QuoteSummary {
                id: quote.id.clone(),
                number: quote.number.clone(),
                version: quote.version,
                status: quote.status.clone(),
                total: quote.pricing.subtotal,
                currency: quote.currency.clone(),
                currency_symbol: org.currency_symbol(),
                valid_until: quote.valid_until,
                reference: quote.reference.clone(),
            },
            customer: customer.clone(),
            line_items: quote.pricing.line_items.clone(),
            urls: QuoteUrls {
                quote_detail: format!("{public_url}/api/v1/quotes/{}", quote.id),
                submission_detail: format!(
                    "{public_url}/api/v1/submissions/{}",
                    quote.submission_id
                ),
                view_quote: None,
            },
        }
    }
}

/// `quote.created`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(as = QuoteCreatedData)]
pub struct QuoteCreated(pub QuoteBlocks);

/// `quote.sent`: the quote blocks with `urls.viewQuote`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(as = QuoteSentData)]
pub struct QuoteSent(QuoteBlocks);

impl QuoteSent {
    /// The blocks with the customer's page at `view_url`.
    pub fn new(mut blocks: QuoteBlocks, view_url: String) -> Self {
        blocks.urls.view_quote = Some(view_url);
        Self(blocks)
    }
}

/// Who did something on the customer's quote page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Visitor {
    /// The client's IP address.
    pub ip_address: String,
    /// Its `User-Agent`, if sent.
    pub user_agent: Option<String>,
}

/// `quote.viewed`: the `view` block.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuoteViewedData)]
pub struct QuoteViewed {
    /// The quote blocks.
    #[serde(flatten)]
    pub blocks: QuoteBlocks,
    /// The first view.
    pub view: View,
}

/// The `view` block.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct View {
    /// Epoch ms.
    pub viewed_at: i64,
    /// Who viewed it.
    #[serde(flatten)]
    pub visitor: Visitor,
}

/// `quote.accepted`: the `acceptance` block.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuoteAcceptedData)]
pub struct QuoteAccepted {
    /// The quote blocks.
    #[serde(flatten)]
    pub blocks: QuoteBlocks,
    /// The decision.
    pub acceptance: Acceptance,
}

/// The `acceptance` block (also stored as the quote's decision).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Acceptance {
    /// Epoch ms.
    pub accepted_at: i64,
    /// The name the customer signed with (trimmed).
    pub accepted_by_name: String,
    /// Who accepted.
    #[serde(flatten)]
    pub visitor: Visitor,
}

/// `quote.rejected`: the `rejection` block.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuoteRejectedData)]
pub struct QuoteRejected {
    /// The quote blocks.
    #[serde(flatten)]
    pub blocks: QuoteBlocks,
    /// The decision.
    pub rejection: Rejection,
}

/// The `rejection` block (also stored as the quote's decision).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// Epoch ms.
    pub rejected_at: i64,
    /// Why, if the customer said.
    pub reason: Option<String>,
    /// Who rejected.
    #[serde(flatten)]
    pub visitor: Visitor,
}

/// `quote.expiring_soon`: the `expiry` block with the days left.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuoteExpiringSoonData)]
pub struct QuoteExpiringSoon {
    /// The quote blocks.
    #[serde(flatten)]
    pub blocks: QuoteBlocks,
    /// When and how soon.
    pub expiry: ExpiringSoon,
}

/// The `expiry` block of `quote.expiring_soon`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringSoon {
    /// Epoch ms.
    pub valid_until: i64,
    /// Whole days left, rounded up.
    pub days_remaining: i64,
}

/// `quote.expired`: the `expiry` block with the moment it was expired.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuoteExpiredData)]
pub struct QuoteExpired {
    /// The quote blocks.
    #[serde(flatten)]
    pub blocks: QuoteBlocks,
    /// When.
    pub expiry: Expired,
}

/// The `expiry` block of `quote.expired`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Expired {
    /// Epoch ms.
    pub valid_until: i64,
    /// Epoch ms.
    pub expired_at: i64,
}

/// `submission.created`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SubmissionCreatedData)]
pub struct SubmissionCreated {
    /// `{id, createdAt}`.
    pub submission: Created,
    /// The submission's customer block.
    #[schema(value_type = Customer)]
    pub customer: Value,
    /// The template configured.
    pub template: TemplateRef,
    /// The configuration's summary.
    pub configuration: ConfigurationSummary,
    /// The frozen `{currency, subtotal, lineItems, source}`.
    pub pricing: FrozenPricing,
    /// `{submissionDetail}`.
    pub urls: SubmissionUrls,
}

/// The `{id, createdAt}` of a new resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// Its id.
    pub id: String,
    /// Epoch ms.
    pub created_at: i64,
}

/// The `configuration` block of `submission.created`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationSummary {
    /// Millimetres.
    pub width: u32,
    /// Millimetres.
    pub height: u32,
    /// Units ordered.
    pub unit_amount: i64,
    /// How many components.
    pub component_count: usize,
}

/// The `urls` block of `submission.created`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionUrls {
    /// The submission in the REST API.
    pub submission_detail: String,
}

/// `lead.created`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeadCreatedData)]
pub struct LeadCreated {
    /// `{id, createdAt}`.
    pub lead: Created,
    /// Who wrote and what.
    pub contact: LeadContact,
    /// `{leadsPage}`.
    pub urls: LeadUrls,
}

/// The `contact` block of `lead.created`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadContact {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// The whole message.
    pub message: String,
    /// Its first characters.
    pub message_preview: String,
}

/// The `urls` block of `lead.created`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadUrls {
    /// The new leads in the REST API.
    pub leads_page: String,
}

/// The `submission` block of a `pricing.calculated` for contexts `submission` and
/// `autofill`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingSubmission {
    /// `sub_…` (for `submission`: the id the submission will get).
    pub id: String,
    /// The customer as submitted.
    #[schema(value_type = Customer)]
    pub customer: Value,
    /// The customer's notes.
    pub notes: Option<String>,
    /// The quote being auto-filled (`autofill` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_id: Option<String>,
}

macro_rules! payloads {
    ($($payload:ty => $event:ident),* $(,)?) => {
        $(impl Payload for $payload { const TYPE: EventType = EventType::$event; })*
    };
}

payloads! {
    SubmissionCreated => SubmissionCreated,
    QuoteCreated => QuoteCreated,
    QuoteSent => QuoteSent,
    QuoteViewed => QuoteViewed,
    QuoteAccepted => QuoteAccepted,
    QuoteRejected => QuoteRejected,
    QuoteExpiringSoon => QuoteExpiringSoon,
    QuoteExpired => QuoteExpired,
    LeadCreated => LeadCreated,
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
