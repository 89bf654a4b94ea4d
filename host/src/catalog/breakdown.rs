//! A replacement breakdown sent back by the organisation (callback body, plugin output):
//! validated field by field, totals recomputed by the platform, exactly. Text fields may
//! not carry control characters or bidirectional embedding/override/isolate characters
//! (they are refused, not stripped: what the customer reads is what was sent), and no two
//! rows may name the same base item.

use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::money::{self, round_money};
use super::{LineItem, Pricing};
use crate::validation::FieldError;

/// Most line items in one breakdown.
pub const MAX_LINE_ITEMS: usize = 500;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 500;
/// Longest `itemKey` / `externalRef`.
pub const MAX_REF: usize = 200;
/// Longest `itemType`.
pub const MAX_ITEM_TYPE: usize = 50;
/// Largest quantity.
const MAX_QUANTITY: i64 = 1_000_000;
/// Largest unit price.
const MAX_UNIT_PRICE: i64 = 1_000_000_000;

/// One line of a replacement breakdown. `total`, if sent (base items are echo-able), is
/// ignored: the platform computes `quantity × unitPrice`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItemInput {
    /// The base item this replaces (`level:strategyId:sourceId`), if any.
    pub item_key: Option<String>,
    /// The integrator's reference (`system:type:id`).
    pub external_ref: Option<String>,
    /// What the customer reads.
    pub description: String,
    /// Count or measure, ≥ 0.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub quantity: Decimal,
    /// Price per unit, ≥ 0.
    #[serde(with = "money")]
    #[schema(value_type = f64)]
    pub unit_price: Decimal,
    /// Ignored (recomputed).
    #[serde(default, with = "money::option")]
    #[schema(value_type = Option<f64>)]
    pub total: Option<Decimal>,
    /// `door`, `glass`, `labor`, …
    pub item_type: Option<String>,
    /// Position; lower first.
    #[serde(default)]
    pub sort_offset: i64,
}

/// Validates a breakdown (`base` is the JSON path of the array) and prices it exactly.
pub fn price_line_items(
    items: Vec<LineItemInput>,
    currency: &str,
    base: &str,
) -> Result<Pricing, Vec<FieldError>> {
    let mut errors = Vec::new();
    if items.len() > MAX_LINE_ITEMS {
        errors.push(FieldError::new(base, format!("at most {MAX_LINE_ITEMS} line items")));
    }
    let mut keys = std::collections::HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let at = |field: &str| format!("{base}[{index}].{field}");
        let description = item.description.trim();
        if description.is_empty() || description.len() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                at("description"),
                format!("1 to {MAX_DESCRIPTION} characters"),
            ));
        }
        if let Some(key) = &item.item_key
            && !keys.insert(key.as_str())
        {
            errors.push(FieldError::new(at("itemKey"), "another line item has the same itemKey"));
        }
        for (field, value) in [
            ("description", Some(&item.description)),
            ("itemKey", item.item_key.as_ref()),
            ("externalRef", item.external_ref.as_ref()),
            ("itemType", item.item_type.as_ref()),
        ] {
            if value.is_some_and(|text| text.chars().any(is_hidden_control)) {
                errors.push(FieldError::new(
                    at(field),
                    "control and bidirectional-override characters are not allowed",
                ));
            }
        }
        if item.quantity < Decimal::ZERO || item.quantity > Decimal::from(MAX_QUANTITY) {
            errors.push(FieldError::new(at("quantity"), format!("between 0 and {MAX_QUANTITY}")));
        }
        if item.unit_price < Decimal::ZERO || item.unit_price > Decimal::from(MAX_UNIT_PRICE) {
            errors
                .push(FieldError::new(at("unitPrice"), format!("between 0 and {MAX_UNIT_PRICE}")));
        }
        for (field, value, max) in [
            ("itemKey", &item.item_key, MAX_REF),
            ("externalRef", &item.external_ref, MAX_REF),
            ("itemType", &item.item_type, MAX_ITEM_TYPE),
        ] {
            if value.as_ref().is_some_and(|v| v.len() > max) {
                errors.push(FieldError::new(at(field), format!("at most {max} characters")));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let lines = items
        .into_iter()
        .map(|item| LineItem {
            item_key: item.item_key,
            external_ref: item.external_ref,
            description: item.description.trim().to_owned(),
            quantity: item.quantity.normalize(),
            unit_price: item.unit_price,
            total: round_money(item.quantity * item.unit_price),
            item_type: item.item_type,
            sort_offset: item.sort_offset,
        })
        .collect();
    Ok(Pricing::from_items(currency, lines))
}

/// Characters a customer would not see but that change what they read: C0/C1 controls
/// (NUL, escape, line breaks, tabs) and the bidirectional embeddings, overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069).
fn is_hidden_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn totals_are_recomputed_exactly_and_bad_items_name_their_paths() {
        let items: Vec<LineItemInput> = serde_json::from_value(json!([
            {"description": "Panel", "quantity": 3, "unitPrice": 0.1, "total": 999},
            {"description": "Glass", "quantity": 2, "unitPrice": 0.2, "sortOffset": -1}
        ]))
        .unwrap();
        let pricing = price_line_items(items, "EUR", "lineItems").unwrap();
        assert_eq!(pricing.subtotal, Decimal::new(7, 1));
        assert_eq!(pricing.line_items[0].description, "Glass", "sorted by sortOffset");
        let bad: Vec<LineItemInput> = serde_json::from_value(json!([
            {"description": " ", "quantity": -1, "unitPrice": 5}
        ]))
        .unwrap();
        let paths: Vec<_> = price_line_items(bad, "EUR", "lineItems")
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["lineItems[0].description", "lineItems[0].quantity"]);
    }

    #[test]
    fn hidden_characters_and_repeated_keys_are_refused() {
        let items: Vec<LineItemInput> = serde_json::from_value(json!([
            {"itemKey": "a", "description": "Panel\u{0}", "quantity": 1, "unitPrice": 1},
            {"itemKey": "a", "description": "Glass \u{202e}evil", "quantity": 1, "unitPrice": 1},
            {"description": "Ok", "externalRef": "x\u{1b}y", "quantity": 1, "unitPrice": 1}
        ]))
        .unwrap();
        let paths: Vec<_> = price_line_items(items, "EUR", "lineItems")
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                "lineItems[0].description",
                "lineItems[1].itemKey",
                "lineItems[1].description",
                "lineItems[2].externalRef"
            ]
        );
    }
}
