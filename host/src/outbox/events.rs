//! The ten event types and the common envelope every delivery of an event carries.
//!
//! The envelope is exactly the events catalog's: `version`, `event`, `eventType`,
//! `timestamp` (ISO-8601), `orgLocale`, `customerLocale`, `organization`, `data`. Times
//! inside `data` are epoch milliseconds, as the catalog's business examples show.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::clock::iso8601;
use crate::orgs::Org;

/// Envelope `version`.
pub const ENVELOPE_VERSION: &str = "1.0";

/// Every event type the platform sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    /// A customer submitted a configuration.
    #[serde(rename = "submission.created")]
    SubmissionCreated,
    /// A quote was created.
    #[serde(rename = "quote.created")]
    QuoteCreated,
    /// A quote was sent to the customer.
    #[serde(rename = "quote.sent")]
    QuoteSent,
    /// The customer opened the quote (first view).
    #[serde(rename = "quote.viewed")]
    QuoteViewed,
    /// The customer accepted.
    #[serde(rename = "quote.accepted")]
    QuoteAccepted,
    /// The customer rejected.
    #[serde(rename = "quote.rejected")]
    QuoteRejected,
    /// Three days before a sent quote expires.
    #[serde(rename = "quote.expiring_soon")]
    QuoteExpiringSoon,
    /// A sent quote passed its validity date.
    #[serde(rename = "quote.expired")]
    QuoteExpired,
    /// A contact-form lead arrived.
    #[serde(rename = "lead.created")]
    LeadCreated,
    /// A live configuration needs the organisation's pricing (fast path).
    #[serde(rename = "pricing.calculated")]
    PricingCalculated,
}

impl EventType {
    /// All ten, in catalog order.
    pub const ALL: [Self; 10] = [
        Self::SubmissionCreated,
        Self::QuoteCreated,
        Self::QuoteSent,
        Self::QuoteViewed,
        Self::QuoteAccepted,
        Self::QuoteRejected,
        Self::QuoteExpiringSoon,
        Self::QuoteExpired,
        Self::LeadCreated,
        Self::PricingCalculated,
    ];

    /// The wire name, e.g. `quote.sent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubmissionCreated => "submission.created",
            Self::QuoteCreated => "quote.created",
            Self::QuoteSent => "quote.sent",
            Self::QuoteViewed => "quote.viewed",
            Self::QuoteAccepted => "quote.accepted",
            Self::QuoteRejected => "quote.rejected",
            Self::QuoteExpiringSoon => "quote.expiring_soon",
            Self::QuoteExpired => "quote.expired",
            Self::LeadCreated => "lead.created",
            Self::PricingCalculated => "pricing.calculated",
        }
    }

    /// When it fires, as the events catalog says.
    pub fn description(self) -> &'static str {
        match self {
            Self::SubmissionCreated => "A customer submits a configuration",
            Self::QuoteCreated => "An organization user (or the API) creates a quote",
            Self::QuoteSent => "A quote is sent to the customer",
            Self::QuoteViewed => "The customer opens the quote (first view)",
            Self::QuoteAccepted => "The customer accepts",
            Self::QuoteRejected => "The customer rejects",
            Self::QuoteExpiringSoon => "3 days before a sent quote expires (daily check)",
            Self::QuoteExpired => "A sent quote passes its validity date",
            Self::LeadCreated => "A contact-form lead arrives on your public page",
            Self::PricingCalculated => "A customer's live configuration needs your pricing",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Dispatched immediately, outside the queue cadence.
    pub fn is_fast(self) -> bool {
        self == Self::PricingCalculated
    }
}

/// An event to emit.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its type.
    pub event_type: EventType,
    /// The customer's locale, when one is involved.
    pub customer_locale: Option<String>,
    /// The event-specific `data`.
    pub data: Value,
    /// Fast path: the epoch-ms end of the callback budget (retries stop there).
    pub expires_at: Option<i64>,
}

/// The envelope every delivery of an event carries, fields in the catalog's order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    /// Always `1.0`.
    pub version: &'static str,
    /// The event type.
    pub event: &'static str,
    /// ISO-8601 UTC with milliseconds.
    pub timestamp: String,
    /// The event type again (older integrations read this one).
    pub event_type: &'static str,
    /// The organisation's locale.
    pub org_locale: &'a str,
    /// The customer's language (`Accept-Language` of their submission or form, else the
    /// organisation's locale); `null` on `pricing.calculated`.
    pub customer_locale: Option<&'a str>,
    /// Who the event is about.
    pub organization: OrganizationRef<'a>,
    /// Event-specific payload (each event type's schema).
    #[schema(value_type = Object)]
    pub data: &'a Value,
}

/// The `organization` block of the envelope.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRef<'a> {
    /// `org_…`
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Slug.
    pub slug: &'a str,
    /// Contact email.
    pub email: &'a str,
    /// Contact phone.
    pub phone: Option<&'a str>,
    /// Logo URL.
    pub logo_url: Option<&'a str>,
}

impl<'a> Envelope<'a> {
    /// The envelope of an event named `name` for `org`, stamped `at_ms`.
    pub fn new(
        org: &'a Org,
        name: &'static str,
        customer_locale: Option<&'a str>,
        data: &'a Value,
        at_ms: i64,
    ) -> Self {
        Self {
            version: ENVELOPE_VERSION,
            event: name,
            timestamp: iso8601(at_ms),
            event_type: name,
            org_locale: &org.locale,
            customer_locale,
            organization: OrganizationRef {
                id: &org.id,
                name: &org.name,
                slug: &org.slug,
                email: &org.email,
                phone: org.phone.as_deref(),
                logo_url: org.logo_url.as_deref(),
            },
            data,
        }
    }
}
