//! `configHash`: `sha256:` + hex SHA-256 of the canonical JSON encoding of a configuration.
//!
//! Canonical encoding (documented in the README): the canonical configuration serialized
//! as JSON with object keys sorted by their UTF-8 bytes at every level, no insignificant
//! whitespace, integers in plain decimal, strings with serde_json's minimal escaping, and
//! absent colours as `null`. Equal configurations therefore hash equally whatever order
//! their keys arrived in.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Configuration;

/// The `configHash` of a (validated, canonical) configuration.
pub fn config_hash(configuration: &Configuration) -> String {
    let value = serde_json::to_value(configuration).expect("a configuration is plain JSON");
    let mut text = String::with_capacity(256);
    write_canonical(&value, &mut text);
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Appends the canonical encoding of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_sorts_keys_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": "x"}], "a": 2 }"#).unwrap();
        let mut out = String::new();
        write_canonical(&value, &mut out);
        assert_eq!(out, r#"{"a":2,"b":[1,{"a":"x","z":null}]}"#);
    }

    #[test]
    fn hash_has_the_documented_form() {
        let configuration: Configuration = serde_json::from_str(
            r#"{"width":1000,"height":1200,"components":[{"componentId":"c","width":900,"height":1100,"selectedOptions":[]}]}"#,
        )
        .unwrap();
        let expected_text = r#"{"components":[{"componentId":"c","height":1100,"selectedOptions":[],"width":900}],"height":1200,"insideColorId":null,"outsideColorId":null,"width":1000}"#;
        let expected = format!("sha256:{}", hex::encode(Sha256::digest(expected_text)));
        assert_eq!(config_hash(&configuration), expected);
    }
}
