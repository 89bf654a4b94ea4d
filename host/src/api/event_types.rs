//! The machine-readable event catalog: `GET /api/v1/event-types` (each type's description,
//! JSON Schema of its `data` and a full example), and the same ten events as the OpenAPI
//! document's `webhooks` section (OpenAPI 3.1): the envelope, each `data` schema, the
//! headers every delivery carries and one example each. Both are built from the typed
//! payloads ([`crate::services::events`]) and their examples
//! ([`crate::services::event_examples`]), once per process.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::catalog::PricingRequest;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::Json;
use crate::outbox::{Envelope, EventType};
use crate::services::event_examples;
use crate::services::events::{
    LeadCreated, QuoteAccepted, QuoteCreated, QuoteExpired, QuoteExpiringSoon, QuoteRejected,
    QuoteSent, QuoteViewed, SubmissionCreated,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_event_types))
}

/// The envelope and every event's `data`, with everything they contain.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Envelope,
    SubmissionCreated,
    QuoteCreated,
    QuoteSent,
    QuoteViewed,
    QuoteAccepted,
    QuoteRejected,
    QuoteExpiringSoon,
    QuoteExpired,
    LeadCreated,
    PricingRequest,
)))]
struct EventSchemas;

/// The component schema of `event_type`'s `data` (an exhaustive match: a new event type
/// does not compile without its schema).
fn data_schema(event_type: EventType) -> Cow<'static, str> {
    match event_type {
        EventType::SubmissionCreated => SubmissionCreated::name(),
        EventType::QuoteCreated => QuoteCreated::name(),
        EventType::QuoteSent => QuoteSent::name(),
        EventType::QuoteViewed => QuoteViewed::name(),
        EventType::QuoteAccepted => QuoteAccepted::name(),
        EventType::QuoteRejected => QuoteRejected::name(),
        EventType::QuoteExpiringSoon => QuoteExpiringSoon::name(),
        EventType::QuoteExpired => QuoteExpired::name(),
        EventType::LeadCreated => LeadCreated::name(),
        EventType::PricingCalculated => PricingRequest::name(),
    }
}

/// One event type of the catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeView {
    /// The wire name, e.g. `quote.sent`.
    pub event_type: &'static str,
    /// When it fires.
    pub description: &'static str,
    /// JSON Schema (2020-12, self-contained) of its `data`.
    #[schema(value_type = Object)]
    pub schema: Value,
    /// A realistic example of the whole envelope as delivered.
    #[schema(value_type = Object)]
    pub example: Value,
}

/// Every event type, in catalog order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventTypeList {
    /// The ten event types.
    pub data: Vec<EventTypeView>,
}

/// The catalog, built once.
static CATALOG: LazyLock<EventTypeList> = LazyLock::new(|| {
    let components = component_schemas();
    let data = event_examples::documented()
        .into_iter()
        .map(|(example, envelope)| {
            let event_type = example.event_type;
            let mut schema = inline(&reference(&data_schema(event_type)), &components, 0);
            if let Some(schema) = schema.as_object_mut() {
                schema.insert(
                    "$schema".into(),
                    json!("https://json-schema.org/draft/2020-12/schema"),
                );
            }
            EventTypeView {
                event_type: event_type.as_str(),
                description: event_type.description(),
                schema,
                example: envelope,
            }
        })
        .collect();
    EventTypeList { data }
});

/// List the ten event types with their `data` schema and an example envelope.
#[utoipa::path(get, path = "/api/v1/event-types", tag = "events",
    responses((status = 200, body = EventTypeList), super::AuthErrors,
        (status = 429, description = "Rate limit of the API key exceeded (`Retry-After`)", body = ErrorBody)))]
async fn list_event_types(_auth: ApiAuth) -> ApiResult<Json<EventTypeList>> {
    Ok(Json(CATALOG.clone()))
}

/// The component schemas of the envelope and every `data`, as JSON.
fn component_schemas() -> Map<String, Value> {
    let components = EventSchemas::openapi().components.unwrap_or_default();
    match serde_json::to_value(components.schemas) {
        Ok(Value::Object(schemas)) => schemas,
        _ => Map::new(),
    }
}

/// `{"$ref": "#/components/schemas/<name>"}`.
fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema` with every component reference replaced by the component itself (merged with
/// the reference's own keywords, such as its description): one self-contained JSON Schema.
fn inline(schema: &Value, components: &Map<String, Value>, depth: usize) -> Value {
    const DEPTH: usize = 32; // the payloads nest a few levels; nothing refers to itself
    match schema {
        Value::Object(object) => {
            let target = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| components.get(name));
            match target {
                Some(target) if depth < DEPTH => {
                    let mut resolved = inline(target, components, depth + 1);
                    if let Some(resolved) = resolved.as_object_mut() {
                        for (key, value) in object.iter().filter(|(key, _)| *key != "$ref") {
                            resolved.insert(key.clone(), inline(value, components, depth + 1));
                        }
                    }
                    resolved
                }
                _ => Value::Object(
                    object
                        .iter()
                        .map(|(key, value)| (key.clone(), inline(value, components, depth)))
                        .collect(),
                ),
            }
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| inline(item, components, depth)).collect())
        }
        other => other.clone(),
    }
}

/// Adds the event catalog to the OpenAPI document: the envelope and payload schemas to its
/// components, and one `webhooks` entry per event type (OpenAPI 3.1).
pub struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let schemas = EventSchemas::openapi().components.unwrap_or_default().schemas;
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        let webhooks: Map<String, Value> = CATALOG
            .data
            .iter()
            .zip(EventType::ALL)
            .map(|(view, event_type)| (view.event_type.to_owned(), webhook(event_type, view)))
            .collect();
        let extensions = openapi.extensions.get_or_insert_with(Default::default);
        // `webhooks` is a field of OpenAPI 3.1 itself, which utoipa's document type lacks:
        // it is written through the extensions map (serialized flat at the top level).
        extensions.insert("webhooks".into(), Value::Object(webhooks));
    }
}

/// The Path Item of one event type in `webhooks`.
fn webhook(event_type: EventType, view: &EventTypeView) -> Value {
    let name = event_type.as_str();
    let lane = if event_type.is_fast() {
        "Fast lane: sent at once, retried only within the callback budget (`callback.timeoutMs`)."
    } else {
        "Queued lane: at-least-once, retried after ~1, 5 and 15 minutes."
    };
    json!({
        "post": {
            "summary": name,
            "description": format!("{}. {lane} Verify the signature before parsing; dedup on `X-WinFactor-Delivery`.", view.description),
            "operationId": format!("webhook_{}", name.replace('.', "_")),
            "tags": ["webhooks"],
            "parameters": headers(name),
            "requestBody": {
                "required": true,
                "content": { "application/json": {
                    "schema": { "allOf": [
                        reference(&Envelope::name()),
                        { "type": "object", "properties": {
                            "event": { "const": name },
                            "eventType": { "const": name },
                            "data": reference(&data_schema(event_type)),
                        } },
                    ] },
                    "example": view.example,
                } },
            },
            "responses": {
                "2XX": { "description": "Received: the delivery is recorded as delivered" },
                "410": { "description": "Gone: the endpoint is disabled at once (`disabledReason: gone`)" },
                "default": { "description": "Any other answer, a timeout or a connection error: retried (`Retry-After` on 429/503 is honoured up to an hour)" },
            },
        },
    })
}

/// The headers of every delivery of `name` (see `outbox::send`).
fn headers(name: &str) -> Value {
    let header = |header: &str, description: &str, example: &str| {
        json!({ "name": header, "in": "header", "required": true, "description": description,
            "schema": { "type": "string" }, "example": example })
    };
    json!([
        header("X-WinFactor-Event", "The event type", name),
        header(
            "X-WinFactor-Delivery",
            "The event id: identical on every retry, redelivery and endpoint — dedup on it",
            "evt_0QbZ3kT8mN2pW4xY6zA1cD3eF"
        ),
        header(
            "X-WinFactor-Signature",
            "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`, one `v1=` per active secret during a rotation",
            "t=1781186602,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
        ),
        header(
            "webhook-id",
            "Standard Webhooks: the event id (as `X-WinFactor-Delivery`)",
            "evt_0QbZ3kT8mN2pW4xY6zA1cD3eF"
        ),
        header("webhook-timestamp", "Standard Webhooks: unix seconds of the attempt", "1781186602"),
        header(
            "webhook-signature",
            "Standard Webhooks: `v1,<base64 HMAC-SHA256>` per active secret, space-separated",
            "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_refs(value: &Value) -> bool {
        match value {
            Value::Object(object) => !object.contains_key("$ref") && object.values().all(no_refs),
            Value::Array(items) => items.iter().all(no_refs),
            _ => true,
        }
    }

    #[test]
    fn each_schema_is_self_contained_and_describes_its_example() {
        assert_eq!(CATALOG.data.len(), 10);
        for view in &CATALOG.data {
            assert!(no_refs(&view.schema), "{}: {}", view.event_type, view.schema);
            let properties = view.schema.to_string();
            for key in view.example["data"].as_object().expect("an object").keys() {
                assert!(properties.contains(&format!("\"{key}\"")), "{}: {key}", view.event_type);
            }
        }
    }
}
