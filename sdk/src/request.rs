//! What the host asks: the `pricing.calculated` data as plain Rust values.

use rust_decimal::Decimal;

use crate::measure::Dimensions;

/// Why the price is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The customer is configuring; the answer goes to their screen.
    Live,
    /// The customer submitted; the answer is frozen on the submission.
    Submission,
    /// An organisation user re-prices a submitted configuration.
    Autofill,
}

/// How the organisation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitSystem {
    /// Millimetres, metres, square metres.
    Metric,
    /// Inches, feet, square feet.
    Imperial,
}

/// The organisation the plugin belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// BCP 47, e.g. `de-DE`.
    pub locale: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// Metric or imperial.
    pub unit_system: UnitSystem,
}

/// The configuration session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `cs_…`
    pub id: String,
    /// Where the customer configures (`configurator`, `api`, …).
    pub origin: String,
}

/// The product template configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Template id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL-safe name, e.g. `2-panel-lift-slide`.
    pub slug: String,
}

/// One configured part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Which template component this is.
    pub component_id: String,
    /// Its width and height.
    pub size: Dimensions,
    /// Ids of the chosen options, sorted.
    pub selected_options: Vec<String>,
}

impl Component {
    /// Whether `option_id` is chosen on this part.
    pub fn has_option(&self, option_id: &str) -> bool {
        self.selected_options.iter().any(|o| o == option_id)
    }
}

/// The canonical configuration (the one `config_hash` identifies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// Overall width and height.
    pub size: Dimensions,
    /// The parts, in order.
    pub components: Vec<Component>,
    /// Inside frame colour.
    pub inside_color_id: Option<String>,
    /// Outside frame colour.
    pub outside_color_id: Option<String>,
}

/// A row of the platform's base pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseItem {
    /// `level:ruleId:sourceId`, unique within the breakdown.
    pub item_key: String,
    /// What the customer reads.
    pub description: String,
    /// Count or measure (m², m).
    pub quantity: Decimal,
    /// Price per unit.
    pub unit_price: Decimal,
    /// `quantity × unit_price`, rounded to cents.
    pub total: Decimal,
    /// `door`, `window`, `glass`, `labor`, …
    pub item_type: Option<String>,
    /// Position; lower first.
    pub sort_offset: i64,
}

/// The platform's base pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasePricing {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of the line totals.
    pub subtotal: Decimal,
    /// Every row.
    pub line_items: Vec<BaseItem>,
}

impl BasePricing {
    /// The base item with this key.
    ///
    /// ```
    /// let request = winfactor_pricing_sdk::testing::sample_request();
    /// let key = &request.base_pricing.line_items[0].item_key;
    /// assert!(request.base_pricing.item(key).is_some());
    /// ```
    pub fn item(&self, item_key: &str) -> Option<&BaseItem> {
        self.line_items.iter().find(|item| item.item_key == item_key)
    }

    /// The base items of one type (`glass`, `labor`, …).
    pub fn items_of_type<'a>(&'a self, item_type: &'a str) -> impl Iterator<Item = &'a BaseItem> {
        self.line_items.iter().filter(move |item| item.item_type.as_deref() == Some(item_type))
    }
}

/// Everything the host knows about the price asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Live, submission or autofill.
    pub context: Context,
    /// The organisation.
    pub organization: Organization,
    /// The session.
    pub session: Session,
    /// The template.
    pub template: Template,
    /// The canonical configuration.
    pub configuration: Configuration,
    /// Its hash (the callback's `configHash`).
    pub config_hash: String,
    /// The platform's base pricing, every line item included.
    pub base_pricing: BasePricing,
    /// The submission (contexts `submission` and `autofill`).
    pub submission: Option<serde_json::Value>,
}
