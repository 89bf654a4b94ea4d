//! Exact decimal amounts on the wire.
//!
//! Amounts and quantities are [`Decimal`]s inside the service, so no total ever shows
//! binary-float drift. On the wire they are JSON numbers as in the events catalog
//! (`"unitPrice": 140.25`). Incoming numbers are read through their shortest round-trip
//! text (the digits the sender wrote, for up to 15 significant digits); strings such as
//! `"140.25"` are accepted too. Outgoing values are written from their decimal text.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;
use std::str::FromStr;

/// Decimal places of currency amounts (minor units).
pub const MONEY_SCALE: u32 = 2;

/// Rounds an amount to cents, half away from zero (commercial rounding).
pub fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(MONEY_SCALE, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Serializes a decimal as a JSON number with the same digits.
pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let normalized = value.normalize();
    if normalized.scale() == 0
        && let Some(int) = normalized.to_i64()
    {
        // Whole amounts print as `960.0` like the catalog shows, not `960`.
        return serializer.serialize_f64(int as f64);
    }
    // Shortest round-trip text of the f64 equals the decimal text for ≤ 15 significant digits.
    let float = f64::from_str(&normalized.to_string()).map_err(serde::ser::Error::custom)?;
    serializer.serialize_f64(float)
}

/// Deserializes a JSON number or numeric string into an exact decimal.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(DecimalVisitor)
}

/// Quantities: whole numbers print as JSON integers (`"quantity": 2`), others as decimals.
pub mod quantity {
    use super::*;

    /// Serializes a quantity.
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let normalized = value.normalize();
        match normalized.to_i64() {
            Some(int) if normalized.scale() == 0 => s.serialize_i64(int),
            _ => super::serialize(value, s),
        }
    }

    /// Deserializes like amounts.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        super::deserialize(d)
    }
}

/// `Option<Decimal>` variant for optional fields.
pub mod option {
    use super::*;

    /// Serializes `Some` like [`super::serialize`], `None` as null.
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::serialize(value, s),
            None => s.serialize_none(),
        }
    }

    /// Deserializes null or a number/numeric string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Decimal>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, a numeric string or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a finite number or a numeric string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("expected a finite number"));
        }
        // `{}` prints the shortest text that reads back as `v`: the sender's digits.
        Decimal::from_str(&v.to_string())
            .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
            .map_err(|_| E::custom(format!("{v} is out of range")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        Decimal::from_str(v.trim()).map_err(|_| E::custom(format!("`{v}` is not a decimal number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Amount(#[serde(with = "super")] Decimal);

    #[test]
    fn numbers_keep_the_senders_digits() {
        for text in ["140.25", "0.1", "1240.5", "0.3", "19.99", "123456789.01"] {
            let Amount(value) = serde_json::from_str(text).unwrap();
            assert_eq!(value.to_string(), text);
            assert_eq!(serde_json::to_string(&Amount(value)).unwrap(), text);
        }
        let Amount(value) = serde_json::from_str("\"7.10\"").unwrap();
        assert_eq!(value, Decimal::new(71, 1));
        assert_eq!(serde_json::to_string(&Amount(Decimal::from(960))).unwrap(), "960.0");
    }

    #[test]
    fn sums_have_no_float_drift() {
        let Amount(a) = serde_json::from_str("0.1").unwrap();
        let Amount(b) = serde_json::from_str("0.2").unwrap();
        assert_eq!(serde_json::to_string(&Amount(a + b)).unwrap(), "0.3");
        assert_eq!(round_money(Decimal::new(2005, 3)), Decimal::new(201, 2));
    }
}
