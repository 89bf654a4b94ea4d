//! Lengths and areas with unit helpers, and commercial rounding.

use rust_decimal::{Decimal, RoundingStrategy};

/// Millimetres per inch, exactly.
const MM_PER_INCH: Decimal = Decimal::from_parts(254, 0, 0, false, 1);

/// A length, stored in whole millimetres like the configuration.
///
/// ```
/// use winfactor_pricing_sdk::{Length, dec};
/// let width = Length::mm(1524);
/// assert_eq!(width.m(), dec!(1.524));
/// assert_eq!(width.inches(), dec!(60));
/// assert_eq!(width.feet(), dec!(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Length(u32);

impl Length {
    /// A length of `mm` millimetres.
    pub const fn mm(mm: u32) -> Self {
        Self(mm)
    }

    /// Whole millimetres.
    pub const fn as_mm(self) -> u32 {
        self.0
    }

    /// Metres, exactly.
    pub fn m(self) -> Decimal {
        Decimal::from(self.0) / Decimal::ONE_THOUSAND
    }

    /// Inches (1 in = 25.4 mm), exact to 1e-28.
    pub fn inches(self) -> Decimal {
        (Decimal::from(self.0) / MM_PER_INCH).normalize()
    }

    /// Feet (12 in).
    pub fn feet(self) -> Decimal {
        (self.inches() / Decimal::from(12)).normalize()
    }
}

/// Width × height of a configuration or of one of its parts.
///
/// ```
/// use winfactor_pricing_sdk::{Dimensions, dec};
/// let size = Dimensions::mm(1200, 1400);
/// assert_eq!(size.area_m2(), dec!(1.68));
/// assert_eq!(size.perimeter_m(), dec!(5.2));
/// assert_eq!(Dimensions::mm(914, 1219).area_sqft().round_dp(2), dec!(11.99));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    /// Horizontal extent.
    pub width: super::Length,
    /// Vertical extent.
    pub height: super::Length,
}

impl Dimensions {
    /// From millimetres.
    pub const fn mm(width: u32, height: u32) -> Self {
        Self { width: Length::mm(width), height: Length::mm(height) }
    }

    /// Area in square metres, exactly.
    pub fn area_m2(self) -> Decimal {
        (self.width.m() * self.height.m()).normalize()
    }

    /// Area in square feet.
    pub fn area_sqft(self) -> Decimal {
        (self.width.feet() * self.height.feet()).normalize()
    }

    /// Perimeter in metres, exactly.
    pub fn perimeter_m(self) -> Decimal {
        ((self.width.m() + self.height.m()) * Decimal::TWO).normalize()
    }
}

/// Rounds to cents, half away from zero (how the host rounds totals).
///
/// ```
/// use winfactor_pricing_sdk::{round_money, dec};
/// assert_eq!(round_money(dec!(2.345)), dec!(2.35));
/// ```
pub fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds up to the next price ending in .99 (charm pricing); amounts already ending in
/// .99 stay.
///
/// ```
/// use winfactor_pricing_sdk::{round_to_99, dec};
/// assert_eq!(round_to_99(dec!(412.10)), dec!(412.99));
/// assert_eq!(round_to_99(dec!(412.99)), dec!(412.99));
/// assert_eq!(round_to_99(dec!(413.00)), dec!(413.99));
/// ```
pub fn round_to_99(amount: Decimal) -> Decimal {
    // Cents never exceed .99 past the whole amount, so the next .99 is in the same unit.
    round_money(amount).floor() + Decimal::new(99, 2)
}
