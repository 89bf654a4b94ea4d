//! Every typed payload against the JSON it replaced: the `json!` expressions the handlers
//! and jobs built, kept here verbatim as the reference. Equal `Value`s means equal keys,
//! equal nulls and absences, and equal number kinds (`960.0` is not `960`).

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use super::*;
use crate::catalog::{LineItem, Pricing, PricingSource};
use crate::orgs::{Plan, UnitSystem};

const URL: &str = "https://winfactor.test";

fn org() -> Org {
    Org {
        id: "org_1".into(),
        name: "Acme Doors".into(),
        slug: "acme".into(),
        email: "sales@acme.test".into(),
        phone: None,
        logo_url: None,
        locale: "en".into(),
        currency: "EUR".into(),
        unit_system: UnitSystem::Metric,
        plan: Plan::Pro,
        pricing_timeout_ms: 5000,
        created_at: 1,
        disabled_at: None,
    }
}

fn quote(subtotal: Decimal, reference: Option<&str>) -> Quote {
    let mut item = LineItem::priced("Door".into(), Decimal::new(2, 0), subtotal / Decimal::TWO);
    item.item_key = Some("door:base:1".into());
    Quote {
        id: "quo_1".into(),
        org_id: "org_1".into(),
        submission_id: "sub_1".into(),
        number: "Q-2026-0001".into(),
        status: "sent".into(),
        version: 2,
        currency: "EUR".into(),
        reference: reference.map(str::to_owned),
        valid_until: 1_900_000_000_000,
        external_ref: None,
        view_token: "qv_x".into(),
        sent_at: Some(2),
        pdf_version: Some(2),
        pricing: Pricing::from_items("EUR", vec![item]),
        created_at: 1,
        updated_at: 2,
    }
}

fn customer() -> Value {
    json!({ "name": "Ann", "email": "ann@example.com", "phone": null, "companyName": null })
}

/// The quote events' blocks as `api::quotes::event_data` built them.
fn old_event_data(public_url: &str, org: &Org, quote: &Quote, customer: &Value) -> Value {
    #[derive(Serialize)]
    struct Amount(#[serde(with = "money")] Decimal);
    json!({
        "quote": {
            "id": quote.id,
            "number": quote.number,
            "version": quote.version,
            "status": quote.status,
            "total": serde_json::to_value(Amount(quote.pricing.subtotal)).unwrap_or_default(),
            "currency": quote.currency,
            "currencySymbol": org.currency_symbol(),
            "validUntil": quote.valid_until,
            "reference": quote.reference,
        },
        "customer": customer,
        "lineItems": quote.pricing.line_items,
        "urls": {
            "quoteDetail": format!("{public_url}/api/v1/quotes/{}", quote.id),
            "submissionDetail": format!("{public_url}/api/v1/submissions/{}", quote.submission_id),
        },
    })
}

fn assert_same<P: Payload>(payload: &P, old: &Value) {
    let new = serde_json::to_value(payload).unwrap();
    assert_eq!(&new, old);
    assert_eq!(serde_json::to_string(&new).unwrap(), serde_json::to_string(old).unwrap());
}

fn visitor() -> Visitor {
    Visitor { ip_address: "203.0.113.7".into(), user_agent: None }
}

#[test]
fn quote_created_and_sent_match() {
    let org = org();
    for (subtotal, reference) in
        [(Decimal::new(960, 0), None), (Decimal::new(28050, 2), Some("ERP 5"))]
    {
        let quote = quote(subtotal, reference);
        let old = old_event_data(URL, &org, &quote, &customer());
        let blocks = QuoteBlocks::new(URL, &org, &quote, &customer());
        assert_same(&QuoteCreated(blocks.clone()), &old);
        let mut sent = old.clone();
        sent["urls"]["viewQuote"] = json!(format!("{URL}/public/v1/quotes/qv_x"));
        assert_same(&QuoteSent::new(blocks, format!("{URL}/public/v1/quotes/qv_x")), &sent);
    }
    let gone = old_event_data(URL, &org, &quote(Decimal::ONE, None), &Value::Null);
    assert_same(
        &QuoteCreated(QuoteBlocks::new(URL, &org, &quote(Decimal::ONE, None), &Value::Null)),
        &gone,
    );
}

#[test]
fn the_customers_quote_events_match() {
    let (org, quote) = (org(), quote(Decimal::new(12345, 2), None));
    let blocks = || QuoteBlocks::new(URL, &org, &quote, &customer());
    let with = |name: &str, block: Value| {
        let mut data = old_event_data(URL, &org, &quote, &customer());
        data[name] = block;
        data
    };
    let view = QuoteViewed { blocks: blocks(), view: View { viewed_at: 5, visitor: visitor() } };
    let old = json!({ "viewedAt": 5, "ipAddress": "203.0.113.7", "userAgent": null });
    assert_same(&view, &with("view", old));

    let acceptance =
        Acceptance { accepted_at: 6, accepted_by_name: "Ann".into(), visitor: visitor() };
    let old = json!({ "acceptedAt": 6, "acceptedByName": "Ann", "ipAddress": "203.0.113.7", "userAgent": null });
    assert_eq!(serde_json::to_value(&acceptance).unwrap(), old, "the stored decision");
    assert_same(&QuoteAccepted { blocks: blocks(), acceptance }, &with("acceptance", old));

    let mut visitor = visitor();
    visitor.user_agent = Some("Firefox".into());
    let rejection = Rejection { rejected_at: 7, reason: None, visitor };
    let old = json!({ "rejectedAt": 7, "reason": null, "ipAddress": "203.0.113.7", "userAgent": "Firefox" });
    assert_eq!(serde_json::to_value(&rejection).unwrap(), old, "the stored decision");
    assert_same(&QuoteRejected { blocks: blocks(), rejection }, &with("rejection", old));
}

#[test]
fn the_expiry_events_match() {
    let (org, quote) = (org(), quote(Decimal::new(99, 0), Some("r")));
    let blocks = QuoteBlocks::new(URL, &org, &quote, &customer());
    let mut old = old_event_data(URL, &org, &quote, &customer());
    old["expiry"] = json!({ "validUntil": quote.valid_until, "daysRemaining": 3 });
    let expiry = ExpiringSoon { valid_until: quote.valid_until, days_remaining: 3 };
    assert_same(&QuoteExpiringSoon { blocks: blocks.clone(), expiry }, &old);
    old["expiry"] = json!({ "validUntil": quote.valid_until, "expiredAt": 8 });
    let expiry = Expired { valid_until: quote.valid_until, expired_at: 8 };
    assert_same(&QuoteExpired { blocks, expiry }, &old);
}

#[test]
fn submission_created_matches() {
    let pricing =
        json!({ "currency": "EUR", "subtotal": 960.0, "lineItems": [], "source": "base" });
    let frozen =
        Pricing { currency: "EUR".into(), subtotal: Decimal::new(960, 0), line_items: vec![] };
    let payload = SubmissionCreated {
        submission: Created { id: "sub_1".into(), created_at: 9 },
        customer: customer(),
        template: TemplateRef { id: "tpl_1".into(), name: "Lift-slide".into(), slug: "ls".into() },
        configuration: ConfigurationSummary {
            width: 3000,
            height: 2200,
            unit_amount: 1,
            component_count: 2,
        },
        pricing: FrozenPricing { pricing: frozen, source: PricingSource::Base },
        urls: SubmissionUrls { submission_detail: format!("{URL}/api/v1/submissions/sub_1") },
    };
    let old = json!({
        "submission": { "id": "sub_1", "createdAt": 9 },
        "customer": customer(),
        "template": { "id": "tpl_1", "name": "Lift-slide", "slug": "ls" },
        "configuration": { "width": 3000, "height": 2200, "unitAmount": 1, "componentCount": 2usize },
        "pricing": pricing,
        "urls": { "submissionDetail": format!("{URL}/api/v1/submissions/sub_1") },
    });
    assert_same(&payload, &old);
}

#[test]
fn lead_created_matches() {
    let payload = LeadCreated {
        lead: Created { id: "lead_1".into(), created_at: 10 },
        contact: LeadContact {
            name: "Bo".into(),
            email: "bo@example.com".into(),
            phone: None,
            message: "Hi".into(),
            message_preview: "Hi".into(),
        },
        urls: LeadUrls { leads_page: format!("{URL}/api/v1/leads?status=new") },
    };
    let old = json!({
        "lead": { "id": "lead_1", "createdAt": 10 },
        "contact": { "name": "Bo", "email": "bo@example.com", "phone": null, "message": "Hi",
            "messagePreview": "Hi" },
        "urls": { "leadsPage": format!("{URL}/api/v1/leads?status=new") },
    });
    assert_same(&payload, &old);
}

#[test]
fn the_other_blocks_match() {
    let submit =
        PricingSubmission { id: "sub_1".into(), customer: customer(), notes: None, quote_id: None };
    let old = json!({ "id": "sub_1", "customer": customer(), "notes": null });
    assert_eq!(serde_json::to_value(submit).unwrap(), old);
    let autofill = PricingSubmission {
        id: "sub_1".into(),
        customer: customer(),
        notes: Some("n".into()),
        quote_id: Some("quo_1".into()),
    };
    let old = json!({ "id": "sub_1", "customer": customer(), "notes": "n", "quoteId": "quo_1" });
    assert_eq!(serde_json::to_value(autofill).unwrap(), old);
}
