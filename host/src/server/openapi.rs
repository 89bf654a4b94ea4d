//! The OpenAPI document as served: what the routers describe, completed with the answers
//! every operation can give because of what it takes — its key, its parameters, its body —
//! so that no handler repeats them and none can forget one. A handler documents its own
//! answers (and may describe a common one more precisely: an answer already documented is
//! left as it is).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

/// What the document says of `Idempotency-Key`, the one input it does not declare.
const IDEMPOTENCY: &str = "\n\nAuthenticated POSTs may carry an `Idempotency-Key` header (1 to 255 \
    characters): the first answer to it (same API key and path) is replayed for 24 hours, marked \
    `Idempotent-Replayed: true`; a repeat while the first still runs gets 409 \
    `idempotency_in_progress`.";

/// Who may call an operation, as the document tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// `/api/v1/…` with the document's bearer security: an API key.
    ApiKey,
    /// `/admin/v1/…`: the operator token.
    Operator,
    /// `/public/…`: anyone, limited per client address.
    Public,
    /// No key and no per-client limit (the live-pricing write-back).
    Token,
}

fn caller(path: &str, operation: &Operation) -> Caller {
    if path.starts_with("/public/") {
        Caller::Public
    } else if path.starts_with("/admin/") {
        Caller::Operator
    } else if operation.security.is_some() {
        // An operation's own security is only ever the empty one: no key.
        Caller::Token
    } else {
        Caller::ApiKey
    }
}

/// The answers an operation can give because of what it takes, with what causes each.
fn common_answers(path: &str, method: &str, operation: &Operation) -> Vec<(u16, &'static str)> {
    let mut answers = Vec::new();
    match caller(path, operation) {
        Caller::ApiKey => {
            answers.push((401, "`unauthorized`: a missing, unknown or revoked API key"));
            answers.push((
                403,
                "`plan_required` (the plan has no API access), `insufficient_scope` (a \
                 read-only key on a write) or `organization_disabled`",
            ));
            answers.push((429, "`rate_limited`: over the key's requests per minute"));
        }
        Caller::Operator => {
            answers.push((401, "`unauthorized`: a missing or wrong operator token"));
            answers.push((404, "`not_found`: the operator API is off, or no such record"));
        }
        Caller::Public => {
            answers.push((429, "`rate_limited`: over this client's requests per minute"));
        }
        Caller::Token => {}
    }
    if path.contains('{') {
        answers.push((404, "`not_found`: no such record (or one of another organisation)"));
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        answers.push((400, "`invalid_request`: a path or query parameter of the wrong type"));
        answers.push((422, "`validation_failed`: a parameter holds the NUL character"));
    }
    if operation.request_body.is_some() {
        answers.push((400, "`malformed_json`: the body is not JSON"));
        answers.push((408, "`request_timeout`: the body did not arrive in time"));
        answers.push((413, "`payload_too_large`: the body is over the limit"));
        answers.push((415, "`unsupported_media_type`: a content type the operation does not take"));
        answers.push((422, "`validation_failed`: every problem with the body, by JSON path"));
    }
    if method == "post" && caller(path, operation) == Caller::ApiKey {
        answers.push((400, "`invalid_request`: an `Idempotency-Key` of 0 or over 255 characters"));
        answers.push((
            409,
            "`idempotency_in_progress`: a request with this `Idempotency-Key` still runs",
        ));
    }
    answers
}

/// Adds to every operation of `doc` the common answers it does not document yet, each with
/// the error body (429 with `Retry-After`).
///
/// `Idempotency-Key` is described in the document's description rather than declared on
/// each POST: a fuzzer or a generated client repeating a key would get the first answer
/// replayed, as the key promises, whatever it sent. Runs once, on the assembled document.
pub fn complete(doc: &mut OpenApi) {
    merge_flattened(doc);
    let description = doc.info.description.get_or_insert_with(String::new);
    description.push_str(IDEMPOTENCY);
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation.as_mut() else { continue };
            let mut descriptions: Vec<(u16, String)> = Vec::new();
            for (status, cause) in common_answers(path, method, operation) {
                match descriptions.iter_mut().find(|(s, _)| *s == status) {
                    Some((_, text)) => {
                        text.push_str("; ");
                        text.push_str(cause);
                    }
                    None => descriptions.push((status, cause.to_owned())),
                }
            }
            for (status, description) in descriptions {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(status, description));
            }
        }
    }
}

/// A struct with a `#[serde(flatten)]` field is one JSON object, but its schema is an
/// `allOf` of the parts, and a part that refuses unknown fields (`additionalProperties:
/// false`, from `deny_unknown_fields`) refuses the other parts' fields too. Each such
/// component becomes the one object it is: the parts' properties and required fields
/// together, closed when a part is.
fn merge_flattened(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else { return };
    let lookup = components.schemas.clone();
    let object_of = |part: &RefOr<Schema>| -> Option<Object> {
        match part {
            RefOr::T(Schema::Object(object)) => Some(object.clone()),
            RefOr::Ref(reference) => {
                let name = reference.ref_location.strip_prefix("#/components/schemas/")?;
                match lookup.get(name)? {
                    RefOr::T(Schema::Object(object)) => Some(object.clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::AllOf(all)) = schema else { continue };
        let Some(parts) = all.items.iter().map(object_of).collect::<Option<Vec<_>>>() else {
            continue;
        };
        if !parts.iter().any(closed) {
            continue;
        }
        let mut merged = ObjectBuilder::new().schema_type(Type::Object).build();
        merged.description.clone_from(&all.description);
        for part in parts {
            merged.properties.extend(part.properties);
            merged.required.extend(part.required);
        }
        merged.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        *schema = RefOr::T(Schema::Object(merged));
    }
}

fn closed(object: &Object) -> bool {
    matches!(object.additional_properties.as_deref(), Some(AdditionalProperties::FreeForm(false)))
}

fn error_response(status: u16, description: String) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))));
    if status == 429 {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1_i64));
        let header = HeaderBuilder::new()
            .schema(seconds)
            .description(Some("Whole seconds until a request would be allowed"));
        response = response.header("Retry-After", header.build());
    }
    RefOr::T(response.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> OpenApi {
        let (_, doc) = crate::api::router()
            .merge(crate::public::router())
            .merge(crate::admin::router())
            .split_for_parts();
        let mut doc = doc;
        complete(&mut doc);
        doc
    }

    fn statuses(doc: &OpenApi, path: &str, method: &str) -> Vec<String> {
        let item = &doc.paths.paths[path];
        let operation = match method {
            "get" => &item.get,
            "post" => &item.post,
            "put" => &item.put,
            _ => panic!("{method}"),
        };
        operation.as_ref().expect("the operation").responses.responses.keys().cloned().collect()
    }

    #[test]
    fn each_operation_documents_what_its_inputs_can_cause() {
        let doc = document();
        let submit = statuses(&doc, "/public/v1/configuration-sessions/{id}/submit", "post");
        for status in ["400", "404", "408", "413", "415", "422", "429"] {
            assert!(submit.contains(&status.to_owned()), "submit lacks {status}: {submit:?}");
        }
        assert!(!submit.contains(&"401".to_owned()), "a public route needs no key");
        let organization = statuses(&doc, "/api/v1/organization", "get");
        for status in ["401", "403", "429"] {
            assert!(organization.contains(&status.to_owned()), "{organization:?}");
        }
        assert!(!organization.contains(&"413".to_owned()), "no body, no 413: {organization:?}");
        let adjustments =
            statuses(&doc, "/api/v1/configuration-sessions/{token}/adjustments", "put");
        assert!(!adjustments.contains(&"401".to_owned()), "the write-back takes no key");
    }

    #[test]
    fn a_flattened_closed_part_does_not_refuse_the_other_parts_fields() {
        let doc = document();
        let schemas = &doc.components.as_ref().expect("components").schemas;
        let RefOr::T(Schema::Object(template)) = &schemas["Template"] else {
            panic!("Template is not one object");
        };
        for field in ["id", "version", "name", "components"] {
            assert!(template.properties.contains_key(field), "{field}");
        }
        assert!(closed(template) && template.required.contains(&"id".to_owned()));
    }
}
