//! Content filters on the envelope, in the Winnerr reference's notation:
//! `{"data.template.slug": {"in": ["a", "b"]}, "data.configuration.width": {"gte": 2000}}`.
//!
//! Keys are dotted paths into the envelope (array elements by index); a bare value means
//! `eq`. Operators: `eq`, `ne`, `gt`, `gte`, `lt`, `lte` (numbers), `in`, `nin` (arrays),
//! `exists` (boolean). All conditions must hold; a missing field matches only `ne`, `nin`
//! and `exists: false`.

use serde_json::{Map, Value};

use crate::validation::FieldError;

/// Most conditions one endpoint may have.
pub const MAX_CONDITIONS: usize = 20;

/// Checks a filter document; errors name the offending path under `base`.
pub fn validate(filters: &Value, base: &str) -> Result<(), Vec<FieldError>> {
    let Some(conditions) = filters.as_object() else {
        return Err(vec![FieldError::new(base, "an object of path → condition")]);
    };
    let mut errors = Vec::new();
    if conditions.len() > MAX_CONDITIONS {
        errors.push(FieldError::new(base, format!("at most {MAX_CONDITIONS} conditions")));
    }
    for (path, condition) in conditions {
        let at = format!("{base}.{path}");
        if path.is_empty() || path.split('.').any(str::is_empty) {
            errors.push(FieldError::new(&at, "a dotted path such as data.template.slug"));
            continue;
        }
        let Some(operators) = condition.as_object() else {
            continue;
        };
        if operators.is_empty() {
            errors.push(FieldError::new(&at, "at least one operator"));
        }
        for (operator, operand) in operators {
            let valid = match operator.as_str() {
                "eq" | "ne" => true,
                "gt" | "gte" | "lt" | "lte" => operand.is_number(),
                "in" | "nin" => operand.is_array(),
                "exists" => operand.is_boolean(),
                _ => {
                    errors.push(FieldError::new(format!("{at}.{operator}"), "unknown operator"));
                    continue;
                }
            };
            if !valid {
                errors
                    .push(FieldError::new(format!("{at}.{operator}"), "operand of the wrong type"));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Whether `envelope` satisfies every condition of a validated filter document.
pub fn matches(filters: &Value, envelope: &Value) -> bool {
    let Some(conditions) = filters.as_object() else {
        return true;
    };
    conditions.iter().all(|(path, condition)| {
        let value = lookup(envelope, path);
        match condition.as_object() {
            Some(operators) => operators_hold(operators, value),
            None => value == Some(condition),
        }
    })
}

fn operators_hold(operators: &Map<String, Value>, value: Option<&Value>) -> bool {
    operators.iter().all(|(operator, operand)| match (operator.as_str(), value) {
        ("exists", value) => operand.as_bool() == Some(value.is_some()),
        ("ne", None) | ("nin", None) => true,
        (_, None) => false,
        ("eq", Some(value)) => value == operand,
        ("ne", Some(value)) => value != operand,
        ("in", Some(value)) => operand.as_array().is_some_and(|list| list.contains(value)),
        ("nin", Some(value)) => operand.as_array().is_some_and(|list| !list.contains(value)),
        (compare, Some(value)) => match (value.as_f64(), operand.as_f64()) {
            (Some(left), Some(right)) => match compare {
                "gt" => left > right,
                "gte" => left >= right,
                "lt" => left < right,
                "lte" => left <= right,
                _ => false,
            },
            _ => false,
        },
    })
}

fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |node, segment| match node {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_follow_the_reference_semantics() {
        let envelope = json!({"data": {"template": {"slug": "lift"}, "configuration": {"width": 2400},
            "lineItems": [{"total": 5}]}});
        let yes = json!({"data.template.slug": {"in": ["lift", "door"]},
            "data.configuration.width": {"gte": 2400}, "data.lineItems.0.total": 5,
            "data.missing": {"exists": false}});
        assert!(matches(&yes, &envelope));
        for no in [
            json!({"data.template.slug": {"nin": ["lift"]}}),
            json!({"data.configuration.width": {"gt": 2400}}),
            json!({"data.missing": {"eq": 1}}),
            json!({"data.template.slug": "door"}),
        ] {
            assert!(!matches(&no, &envelope), "{no}");
        }
    }

    #[test]
    fn validation_names_the_bad_condition() {
        let errors =
            validate(&json!({"data.width": {"gte": "big"}, "data.x": {"like": 1}}), "filters")
                .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["filters.data.width.gte", "filters.data.x.like"]);
    }
}
