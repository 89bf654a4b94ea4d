//! What customers read, formatted for their locale: money with the currency's symbol and
//! placement, plain numbers and dates, from CLDR data through ICU4X (`icu_experimental`'s
//! currency formatter, `icu_decimal`, `icu_datetime`). The quote PDF and the customer pages
//! both format through here.

use fixed_decimal::Decimal;
use icu_calendar::{Date, Gregorian};
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::YMD;
use icu_decimal::DecimalFormatter;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_locale_core::Locale;
use rust_decimal::Decimal as Amount;

/// The locale used when neither the customer's nor the organisation's locale parses.
const FALLBACK: &str = "en";

/// Formats money in one currency, numbers and dates for one locale.
#[derive(Debug)]
pub struct Formatter {
    locale: Locale,
    money: CurrencyFormatter<DecimalFormatter>,
    number: DecimalFormatter,
    date: FixedCalendarDateTimeFormatter<Gregorian, YMD>,
}

impl Formatter {
    /// A formatter for the first of `locales` that parses (a customer's, then the
    /// organisation's; `en` when none does) and the ISO 4217 `currency`.
    pub fn new<'a>(
        locales: impl IntoIterator<Item = &'a str>,
        currency: &str,
    ) -> anyhow::Result<Self> {
        let locale = locales
            .into_iter()
            .find_map(|tag| Locale::try_from_str(tag).ok())
            .unwrap_or_else(|| Locale::try_from_str(FALLBACK).expect("a valid locale"));
        let code = CurrencyType::try_from_str(currency)
            .map_err(|_| anyhow::anyhow!("not an ISO 4217 currency code: {currency}"))?;
        let money = CurrencyFormatter::try_new_symbol((&locale).into(), code, Default::default())
            .map_err(|err| anyhow::anyhow!("no currency data for {currency}: {err}"))?;
        let number = DecimalFormatter::try_new((&locale).into(), Default::default())
            .map_err(|err| anyhow::anyhow!("no number data: {err}"))?;
        let date = FixedCalendarDateTimeFormatter::try_new((&locale).into(), YMD::medium())
            .map_err(|err| anyhow::anyhow!("no date data: {err}"))?;
        Ok(Self { locale, money, number, date })
    }

    /// The BCP 47 tag in use (`de`, `pl-PL`, …).
    pub fn locale(&self) -> String {
        self.locale.to_string()
    }

    /// The language of the locale (`de` for `de-CH`).
    pub fn language(&self) -> &str {
        self.locale.id.language.as_str()
    }

    /// An amount with its currency symbol where the locale puts it, with the currency's
    /// digits (`1.234,50 €` in `de`, `€1,234.50` in `en`, `1234,50 zł` in `pl`).
    pub fn money(&self, amount: Amount) -> String {
        self.money.format_fixed_decimal(&decimal(amount)).to_string()
    }

    /// A plain number as written in the locale (`8,4` in `de`); as many fraction digits as
    /// the number has.
    pub fn number(&self, value: Amount) -> String {
        self.number.format(&decimal(value.normalize())).to_string()
    }

    /// The calendar date of an epoch-milliseconds instant (UTC), medium length
    /// (`02.12.2026` in `de`, `Dec 2, 2026` in `en`).
    pub fn date(&self, epoch_ms: i64) -> String {
        let at = time::OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let day = Date::try_new_gregorian(at.year(), u8::from(at.month()), at.day())
            .expect("a calendar date from a timestamp");
        self.date.format(&day).to_string()
    }
}

/// The exact decimal of an amount (no float on the way).
fn decimal(amount: Amount) -> Decimal {
    Decimal::try_from_str(&amount.to_string()).expect("a decimal's own text parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(locale: &str, currency: &str, amount: &str) -> String {
        let formatter = Formatter::new([locale], currency).unwrap();
        // CLDR separates number and symbol with no-break spaces; compare with plain ones.
        formatter.money(amount.parse().unwrap()).replace(['\u{a0}', '\u{202f}'], " ")
    }

    #[test]
    fn money_follows_the_locale_and_the_currency() {
        assert_eq!(money("de", "EUR", "1234.5"), "1.234,50 €");
        assert_eq!(money("en", "EUR", "1234.5"), "€1,234.50");
        assert_eq!(money("pl", "PLN", "1234.5"), "1234,50 zł");
        assert_eq!(money("en-GB", "GBP", "99"), "£99.00");
        assert_eq!(money("en-US", "USD", "0.3"), "$0.30");
        assert!(money("de-CH", "CHF", "1234.5").contains("CHF"));
        assert!(money("sv", "SEK", "1234.5").ends_with("kr"));
    }

    #[test]
    fn numbers_and_dates_follow_the_locale() {
        let de = Formatter::new(["de"], "EUR").unwrap();
        assert_eq!(de.number("8.40".parse().unwrap()), "8,4");
        assert_eq!(de.date(1_764_633_600_000), "02.12.2025");
        let en = Formatter::new(["xx-not a locale", "en"], "EUR").unwrap();
        assert_eq!(en.number("1234.5".parse().unwrap()), "1,234.5");
        assert_eq!(en.language(), "en");
    }

    #[test]
    fn an_unknown_currency_code_is_an_error() {
        assert!(Formatter::new(["en"], "euro").is_err());
    }
}
