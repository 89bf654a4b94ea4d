//! The answer: a full replacement breakdown, with helpers to start from the base pricing
//! and reprice, replace, add or remove rows.

use rust_decimal::Decimal;

use crate::measure::round_money;
use crate::request::{BaseItem, BasePricing};

/// Most rows the host accepts in one breakdown.
pub const MAX_LINE_ITEMS: usize = 500;

/// One row of the answer. The host computes its total (`quantity × unit_price`, cents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    /// The base item this replaces, if any.
    pub item_key: Option<String>,
    /// The organisation's own reference (`system:type:id`).
    pub external_ref: Option<String>,
    /// What the customer reads (1–500 characters).
    pub description: String,
    /// Count or measure, ≥ 0.
    pub quantity: Decimal,
    /// Price per unit, ≥ 0.
    pub unit_price: Decimal,
    /// `door`, `window`, `glass`, `labor`, …
    pub item_type: Option<String>,
    /// Position; lower first.
    pub sort_offset: i64,
}

impl LineItem {
    /// A new row.
    ///
    /// ```
    /// use winfactor_pricing_sdk::{LineItem, dec};
    /// let item = LineItem::new("Installation", dec!(2), dec!(85)).item_type("labor");
    /// assert_eq!(item.total(), dec!(170));
    /// ```
    pub fn new(description: impl Into<String>, quantity: Decimal, unit_price: Decimal) -> Self {
        Self {
            item_key: None,
            external_ref: None,
            description: description.into(),
            quantity,
            unit_price,
            item_type: None,
            sort_offset: 0,
        }
    }

    /// Sets the item type.
    pub fn item_type(mut self, item_type: impl Into<String>) -> Self {
        self.item_type = Some(item_type.into());
        self
    }

    /// Sets the organisation's reference.
    pub fn external_ref(mut self, external_ref: impl Into<String>) -> Self {
        self.external_ref = Some(external_ref.into());
        self
    }

    /// Sets the position.
    pub fn sort_offset(mut self, sort_offset: i64) -> Self {
        self.sort_offset = sort_offset;
        self
    }

    /// `quantity × unit_price`, rounded to cents, as the host will compute it.
    pub fn total(&self) -> Decimal {
        round_money(self.quantity * self.unit_price)
    }
}

impl From<&BaseItem> for LineItem {
    fn from(item: &BaseItem) -> Self {
        Self {
            item_key: Some(item.item_key.clone()),
            external_ref: None,
            description: item.description.clone(),
            quantity: item.quantity,
            unit_price: item.unit_price,
            item_type: item.item_type.clone(),
            sort_offset: item.sort_offset,
        }
    }
}

/// The full replacement breakdown a plugin returns.
///
/// ```
/// use winfactor_pricing_sdk::{Breakdown, LineItem, dec, testing};
/// let request = testing::sample_request();
/// let mut breakdown = Breakdown::from_base(&request.base_pricing);
/// let first = request.base_pricing.line_items[0].item_key.clone();
/// breakdown.reprice(&first, |unit| unit * dec!(1.1));
/// breakdown.add(LineItem::new("Delivery", dec!(1), dec!(45)).item_type("service"));
/// assert!(breakdown.subtotal() > request.base_pricing.subtotal);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// The rows, in any order (the host orders them by `sort_offset`).
    pub line_items: Vec<LineItem>,
}

impl Breakdown {
    /// An empty breakdown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every base item, unchanged: the starting point of most plugins.
    pub fn from_base(base: &BasePricing) -> Self {
        Self { line_items: base.line_items.iter().map(LineItem::from).collect() }
    }

    /// Appends a row.
    pub fn add(&mut self, item: LineItem) -> &mut Self {
        self.line_items.push(item);
        self
    }

    /// The row replacing the base item `item_key`.
    pub fn item(&self, item_key: &str) -> Option<&LineItem> {
        self.line_items.iter().find(|item| item.item_key.as_deref() == Some(item_key))
    }

    /// The row replacing the base item `item_key`, to change in place.
    pub fn item_mut(&mut self, item_key: &str) -> Option<&mut LineItem> {
        self.line_items.iter_mut().find(|item| item.item_key.as_deref() == Some(item_key))
    }

    /// Replaces the row of `item_key`; returns whether it was there.
    pub fn replace(&mut self, item_key: &str, item: LineItem) -> bool {
        match self.item_mut(item_key) {
            Some(slot) => {
                *slot = item;
                true
            }
            None => false,
        }
    }

    /// Sets a new unit price on the row of `item_key` (rounded to cents); returns whether
    /// it was there.
    pub fn reprice(&mut self, item_key: &str, price: impl FnOnce(Decimal) -> Decimal) -> bool {
        match self.item_mut(item_key) {
            Some(item) => {
                item.unit_price = round_money(price(item.unit_price));
                true
            }
            None => false,
        }
    }

    /// Applies `price` to the unit price of every row (rounded to cents).
    pub fn reprice_all(&mut self, mut price: impl FnMut(&LineItem) -> Decimal) -> &mut Self {
        for item in &mut self.line_items {
            item.unit_price = round_money(price(item));
        }
        self
    }

    /// Removes the row of `item_key`; returns it if it was there.
    pub fn remove(&mut self, item_key: &str) -> Option<LineItem> {
        let index =
            self.line_items.iter().position(|item| item.item_key.as_deref() == Some(item_key))?;
        Some(self.line_items.remove(index))
    }

    /// The sum of the row totals, as the host will compute it.
    pub fn subtotal(&self) -> Decimal {
        self.line_items.iter().map(LineItem::total).sum()
    }
}
