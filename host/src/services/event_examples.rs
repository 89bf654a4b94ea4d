//! One realistic example of every event type, built from the typed payloads the use cases
//! emit (so an example cannot drift from what is sent): the OpenAPI document's `webhooks`,
//! `GET /api/v1/event-types` and the typed test send
//! (`POST /api/v1/webhooks/{id}/test {eventType}`) all show these.
//!
//! The example is a Window Works customer's 2-panel lift-slide door: submitted, quoted,
//! sent, viewed and decided, a contact-form lead, and a live `pricing.calculated`. Its ids
//! name nothing stored; its times are relative to the moment given, its URLs under the
//! service's public URL.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use super::events::{
    Acceptance, ConfigurationSummary, Created, Expired, ExpiringSoon, LeadContact, LeadCreated,
    LeadUrls, QuoteAccepted, QuoteBlocks, QuoteCreated, QuoteExpired, QuoteExpiringSoon,
    QuoteRejected, QuoteSent, QuoteViewed, Rejection, SubmissionCreated, SubmissionUrls, View,
    Visitor,
};
use super::submissions::FrozenPricing;
use crate::catalog::{
    Callback, ComponentConfig, Configuration, LineItem, Pricing, PricingContext, PricingRequest,
    PricingSource, SelectedOption, SessionRef, TemplateRef, config_hash,
};
use crate::orgs::{Org, Plan, UnitSystem};
use crate::outbox::{Envelope, EventType};
use crate::store::Quote;

/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;
/// The moment the documentation's examples are stamped (2026-06-11T14:03:22.000Z).
pub const DOCUMENTED_AT_MS: i64 = 1_781_186_602_000;
/// The public URL the documentation's examples point under.
pub const DOCUMENTED_URL: &str = "https://winfactor.example";

/// A realistic event of one type: its `data` and the envelope's `customerLocale`.
#[derive(Debug, Clone)]
pub struct Example {
    /// Its type.
    pub event_type: EventType,
    /// The envelope's `customerLocale` (`null` for `pricing.calculated`, as sent).
    pub customer_locale: Option<String>,
    /// The event's `data`.
    pub data: Value,
}

impl Example {
    /// The whole envelope of this example for `org`, stamped `at_ms`: serialized, the
    /// body a delivery of it would carry.
    pub fn envelope<'a>(&'a self, org: &'a Org, at_ms: i64) -> Envelope<'a> {
        let name = self.event_type.as_str();
        Envelope::new(org, name, self.customer_locale.as_deref(), &self.data, at_ms)
    }
}

/// The example of `event_type` for `org`, its times around `at_ms` and its URLs under
/// `public_url`.
pub fn example(event_type: EventType, org: &Org, public_url: &str, at_ms: i64) -> Example {
    let scene = Scene { org, public_url, at: at_ms };
    let data = match event_type {
        EventType::SubmissionCreated => to_json(&scene.submission_created()),
        EventType::QuoteCreated => to_json(&QuoteCreated(scene.blocks("draft"))),
        EventType::QuoteSent => to_json(&QuoteSent::new(scene.blocks("sent"), scene.view_url())),
        EventType::QuoteViewed => to_json(&QuoteViewed {
            blocks: scene.blocks("sent"),
            view: View { viewed_at: at_ms, visitor: visitor() },
        }),
        EventType::QuoteAccepted => to_json(&QuoteAccepted {
            blocks: scene.blocks("accepted"),
            acceptance: Acceptance {
                accepted_at: at_ms,
                accepted_by_name: CUSTOMER_NAME.into(),
                visitor: visitor(),
            },
        }),
        EventType::QuoteRejected => to_json(&QuoteRejected {
            blocks: scene.blocks("rejected"),
            rejection: Rejection {
                rejected_at: at_ms,
                reason: Some("We went with a smaller opening after all.".into()),
                visitor: visitor(),
            },
        }),
        EventType::QuoteExpiringSoon => to_json(&QuoteExpiringSoon {
            blocks: scene.blocks("sent"),
            expiry: ExpiringSoon { valid_until: scene.valid_until(), days_remaining: 3 },
        }),
        EventType::QuoteExpired => to_json(&QuoteExpired {
            blocks: scene.blocks("expired"),
            expiry: Expired { valid_until: scene.valid_until(), expired_at: at_ms },
        }),
        EventType::LeadCreated => to_json(&scene.lead_created()),
        EventType::PricingCalculated => to_json(&scene.pricing_calculated()),
    };
    let customer_locale = (!event_type.is_fast()).then(|| CUSTOMER_LOCALE.to_owned());
    Example { event_type, customer_locale, data }
}

/// Every event type's example as the documentation shows it: for the demo organisation,
/// stamped [`DOCUMENTED_AT_MS`], under [`DOCUMENTED_URL`].
pub fn documented() -> Vec<(Example, Value)> {
    let org = example_org();
    EventType::ALL
        .into_iter()
        .map(|event_type| {
            let example = example(event_type, &org, DOCUMENTED_URL, DOCUMENTED_AT_MS);
            let envelope = to_json(&example.envelope(&org, DOCUMENTED_AT_MS));
            (example, envelope)
        })
        .collect()
}

/// The organisation of the documented examples: the demo's Window Works Inc.
pub fn example_org() -> Org {
    Org {
        id: "org_2abcWindowWorks0000000".into(),
        name: "Window Works Inc".into(),
        slug: "window-works".into(),
        email: "sales@window-works.example".into(),
        phone: Some("+1 555 0100".into()),
        logo_url: Some(format!("{DOCUMENTED_URL}/public/v1/orgs/window-works/logo")),
        locale: "en".into(),
        currency: "EUR".into(),
        unit_system: UnitSystem::Metric,
        plan: Plan::Pro,
        pricing_timeout_ms: 10_000,
        created_at: DOCUMENTED_AT_MS - 90 * DAY_MS,
        disabled_at: None,
    }
}

const CUSTOMER_NAME: &str = "Anna de Vries";
const CUSTOMER_LOCALE: &str = "de";
const SUBMISSION_ID: &str = "sub_8fKq2LmX9pR4tVb8NcK3eA";
const QUOTE_ID: &str = "quo_3HsW7yTn1QeZ5uJd6GkP0b";
const TEMPLATE_ID: &str = "tpl_5RtY8uIo2PaS4dFg6HjK1l";

/// The example's people, products and times.
struct Scene<'a> {
    org: &'a Org,
    public_url: &'a str,
    at: i64,
}

impl Scene<'_> {
    fn valid_until(&self) -> i64 {
        self.at + 3 * DAY_MS
    }

    fn view_url(&self) -> String {
        format!("{}/public/v1/quotes/qv_Zx81mQ4rT7wY2uE5oP9sL3kA6dF0gH1j", self.public_url)
    }

    fn pricing(&self) -> Pricing {
        Pricing::from_items(&self.org.currency, line_items())
    }

    /// The quote blocks of the example quote, `status` after the change.
    fn blocks(&self, status: &str) -> QuoteBlocks {
        let quote = Quote {
            id: QUOTE_ID.into(),
            org_id: self.org.id.clone(),
            submission_id: SUBMISSION_ID.into(),
            number: "Q-2026-0042".into(),
            status: status.into(),
            version: 1,
            currency: self.org.currency.clone(),
            reference: Some("Renovation Keizersgracht 12".into()),
            valid_until: self.valid_until(),
            external_ref: Some("hubspot:deal:9912345".into()),
            view_token: "qv_Zx81mQ4rT7wY2uE5oP9sL3kA6dF0gH1j".into(),
            sent_at: (status != "draft").then_some(self.at - DAY_MS),
            pdf_version: (status != "draft").then_some(1),
            pricing: self.pricing(),
            created_at: self.at - 2 * DAY_MS,
            updated_at: self.at,
        };
        QuoteBlocks::new(self.public_url, self.org, &quote, &customer())
    }

    fn submission_created(&self) -> SubmissionCreated {
        SubmissionCreated {
            submission: Created { id: SUBMISSION_ID.into(), created_at: self.at },
            customer: customer(),
            template: template(),
            configuration: ConfigurationSummary {
                width: 2400,
                height: 1800,
                unit_amount: 1,
                component_count: 2,
            },
            pricing: FrozenPricing { pricing: self.pricing(), source: PricingSource::External },
            urls: SubmissionUrls {
                submission_detail: format!(
                    "{}/api/v1/submissions/{SUBMISSION_ID}",
                    self.public_url
                ),
            },
        }
    }

    fn lead_created(&self) -> LeadCreated {
        let message = "Hello, we are renovating our living room and would like a quote for a \
                       lift-slide door of about 2.4 by 1.8 metres, anthracite outside.";
        LeadCreated {
            lead: Created { id: "lead_4JkL9mN2bV6cX8zQ1wE3rT".into(), created_at: self.at },
            contact: LeadContact {
                name: CUSTOMER_NAME.into(),
                email: "anna.devries@example.com".into(),
                phone: Some("+31 6 1234 5678".into()),
                message: message.into(),
                message_preview: super::leads::message_preview(message),
            },
            urls: LeadUrls { leads_page: format!("{}/api/v1/leads?status=new", self.public_url) },
        }
    }

    fn pricing_calculated(&self) -> PricingRequest {
        let panel = ComponentConfig {
            component_id: "lift-slide-panel".into(),
            width: 1185,
            height: 1740,
            selected_options: vec![SelectedOption { option_id: "hrpp".into() }],
        };
        let configuration = Configuration {
            width: 2400,
            height: 1800,
            components: vec![panel.clone(), panel],
            inside_color_id: Some("anth".into()),
            outside_color_id: Some("white".into()),
        };
        let hash = config_hash(&configuration);
        let session = "cs_7PqR2sT4uV6wX8yZ0aB1cD";
        PricingRequest {
            context: PricingContext::Live,
            session: SessionRef { id: session.into(), origin: "configurator".into() },
            template: template(),
            config_hash: hash.clone(),
            configuration,
            submission: None,
            base_pricing: self.pricing(),
            callback: Some(Callback {
                url: format!(
                    "{}/api/v1/configuration-sessions/cbt_9XyZ8wV7uT6sR5qP4oN3mL2kJ1/adjustments",
                    self.public_url
                ),
                method: "PUT".into(),
                config_hash: hash,
                timeout_ms: self.org.pricing_timeout_ms,
            }),
        }
    }
}

/// The customer block every example about Anna carries.
fn customer() -> Value {
    json!({
        "name": CUSTOMER_NAME,
        "email": "anna.devries@example.com",
        "phone": "+31 6 1234 5678",
        "companyName": null,
    })
}

fn template() -> TemplateRef {
    TemplateRef {
        id: TEMPLATE_ID.into(),
        name: "2-panel Lift-Slide Door".into(),
        slug: "2-panel-lift-slide".into(),
    }
}

/// The base breakdown of the door: frame by the metre, two panels, HR++ glass in each.
fn line_items() -> Vec<LineItem> {
    let item =
        |key: String, description: &str, quantity: Decimal, price: Decimal, kind: &str, at: i64| {
            let mut item = LineItem::priced(description.into(), quantity, price);
            item.item_key = Some(key);
            item.item_type = Some(String::from(kind));
            item.sort_offset = at;
            item
        };
    vec![
        item(
            format!("template:aluminium-frame:{TEMPLATE_ID}"),
            "Aluminium frame",
            Decimal::new(84, 1),
            Decimal::new(45, 0),
            "frame",
            5,
        ),
        item(
            "component:lift-slide-door-panel:lift-slide-panel".into(),
            "Lift-slide door panel",
            Decimal::TWO,
            Decimal::new(480, 0),
            "door",
            10,
        ),
        item(
            "option:hr-glass:hrpp".into(),
            "HR++ glass",
            Decimal::TWO,
            Decimal::new(14025, 2),
            "glass",
            20,
        ),
    ]
}

fn visitor() -> Visitor {
    Visitor {
        ip_address: "203.0.113.42".into(),
        user_agent: Some(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) \
             Version/17.5 Safari/605.1.15"
                .into(),
        ),
    }
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("event payloads serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_an_example_with_its_name_and_data() {
        let documented = documented();
        assert_eq!(documented.len(), EventType::ALL.len());
        for (example, envelope) in documented {
            let name = example.event_type.as_str();
            assert_eq!(envelope["event"], name);
            assert_eq!(envelope["eventType"], name);
            assert_eq!(envelope["timestamp"], "2026-06-11T14:03:22.000Z");
            assert_eq!(envelope["organization"]["slug"], "window-works");
            assert!(example.data.as_object().is_some_and(|data| !data.is_empty()), "{name}");
            assert_eq!(envelope["data"], example.data);
        }
    }

    #[test]
    fn the_example_amounts_are_the_exact_base_breakdown() {
        let org = example_org();
        let example = example(EventType::QuoteSent, &org, DOCUMENTED_URL, DOCUMENTED_AT_MS);
        assert_eq!(example.data["quote"]["total"], json!(1618.5));
        assert_eq!(example.data["lineItems"][2]["total"], json!(280.5));
        assert_eq!(
            example.data["urls"]["viewQuote"].as_str().map(|u| u.starts_with(DOCUMENTED_URL)),
            Some(true)
        );
        let pricing = super::example(EventType::PricingCalculated, &org, DOCUMENTED_URL, 0);
        assert_eq!(pricing.customer_locale, None);
        assert_eq!(pricing.data["configHash"], pricing.data["callback"]["configHash"]);
    }
}
