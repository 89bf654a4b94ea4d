//! What an organisation may write as a template ([`TemplateDefinition`]) and as a whole
//! catalog file ([`CatalogFile`]), and the validation of both.
//!
//! Validation reports every problem at once, each at the JSON path of the offending value
//! (relative to the request body or the file): identifiers that are malformed or used
//! twice, references to parts, options or colours that do not exist, impossible size
//! ranges, pricing rules that reference nothing, and a default configuration the template
//! itself would refuse.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{DimensionRange, PricingLevel, TemplateDefinition};
use crate::validation::FieldError;

/// A catalog as a file: what `winfactor catalog export` writes and `catalog import` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogFile {
    /// The templates, each with its slug, in catalog order.
    pub templates: Vec<TemplateDefinition>,
}

impl CatalogFile {
    /// The file's text: pretty JSON with a final newline, so an export of an import of an
    /// export is the same bytes.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a catalog serializes");
        text.push('\n');
        text
    }

    /// Every problem of every template (paths start with `templates[i]`), slugs unique.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.templates.len() > MAX_TEMPLATES {
            errors.push(FieldError::new("templates", format!("at most {MAX_TEMPLATES}")));
        }
        let mut slugs = Unique::default();
        for (index, template) in self.templates.iter().enumerate() {
            let base = format!("templates[{index}]");
            slugs.check(&mut errors, &format!("{base}.slug"), &template.slug, "slug");
            if let Err(mut found) = template.validate(&base) {
                errors.append(&mut found);
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// Most templates one catalog file may hold.
pub const MAX_TEMPLATES: usize = 500;
/// Most components, options, colours and pricing rules a template may hold.
pub const MAX_COMPONENTS: usize = 50;
/// Most options of a template.
pub const MAX_OPTIONS: usize = 200;
/// Most colours of a template.
pub const MAX_COLORS: usize = 100;
/// Most pricing rules of a template.
pub const MAX_RULES: usize = 500;
/// Largest size of any dimension, in millimetres (100 m).
pub const MAX_MILLIMETRES: u32 = 100_000;
/// Largest unit price a rule may carry.
const MAX_UNIT_PRICE: i64 = 1_000_000_000;

impl TemplateDefinition {
    /// Every problem of this definition; `base` is its JSON path (empty for a request body).
    pub fn validate(&self, base: &str) -> Result<(), Vec<FieldError>> {
        let at = |field: &str| join(base, field);
        let mut errors = Vec::new();
        if !is_slug(&self.slug) {
            errors.push(FieldError::new(
                at("slug"),
                "1 to 64 lowercase letters, digits and inner hyphens",
            ));
        }
        text(&mut errors, &at("name"), &self.name, 1, 200);
        text(&mut errors, &at("description"), &self.description, 0, 2000);
        range(&mut errors, &at("dimensions"), &self.dimensions);
        count(&mut errors, &at("components"), self.components.len(), 1, MAX_COMPONENTS);
        count(&mut errors, &at("options"), self.options.len(), 0, MAX_OPTIONS);
        count(&mut errors, &at("colors"), self.colors.len(), 0, MAX_COLORS);
        count(&mut errors, &at("pricingRules"), self.pricing_rules.len(), 0, MAX_RULES);

        let mut option_ids = Unique::default();
        let mut option_codes = Unique::default();
        for (index, option) in self.options.iter().enumerate() {
            let path = at(&format!("options[{index}]"));
            option_ids.check_id(&mut errors, &path, &option.id);
            option_codes.check(&mut errors, &format!("{path}.code"), &option.code, "code");
            text(&mut errors, &format!("{path}.code"), &option.code, 1, 40);
            text(&mut errors, &format!("{path}.name"), &option.name, 1, 200);
            text(&mut errors, &format!("{path}.group"), &option.group, 1, 40);
        }
        let mut color_ids = Unique::default();
        let mut color_codes = Unique::default();
        for (index, color) in self.colors.iter().enumerate() {
            let path = at(&format!("colors[{index}]"));
            color_ids.check_id(&mut errors, &path, &color.id);
            color_codes.check(&mut errors, &format!("{path}.code"), &color.code, "code");
            text(&mut errors, &format!("{path}.code"), &color.code, 1, 40);
            text(&mut errors, &format!("{path}.name"), &color.name, 1, 200);
            if !is_hex_colour(&color.hex) {
                errors.push(FieldError::new(format!("{path}.hex"), "a colour like `#383E42`"));
            }
            if color.sides.is_empty() {
                errors.push(FieldError::new(format!("{path}.sides"), "at least one side"));
            } else if color.sides.len() != color.sides.iter().collect::<HashSet<_>>().len() {
                errors.push(FieldError::new(format!("{path}.sides"), "a side is listed twice"));
            }
        }
        let mut component_ids = Unique::default();
        for (index, component) in self.components.iter().enumerate() {
            let path = at(&format!("components[{index}]"));
            component_ids.check_id(&mut errors, &path, &component.id);
            text(&mut errors, &format!("{path}.name"), &component.name, 1, 200);
            if !is_identifier(&component.component_type, 40) {
                errors.push(FieldError::new(
                    format!("{path}.type"),
                    "1 to 40 letters, digits, `_` or `-` (e.g. `door`)",
                ));
            }
            range(&mut errors, &format!("{path}.dimensions"), &component.dimensions);
            if component.dimensions.min_width > self.dimensions.max_width
                || component.dimensions.min_height > self.dimensions.max_height
            {
                errors.push(FieldError::new(
                    format!("{path}.dimensions"),
                    "its smallest size is larger than the template's largest",
                ));
            }
            let mut listed = HashSet::new();
            for (k, option_id) in component.option_ids.iter().enumerate() {
                let path = format!("{path}.optionIds[{k}]");
                if !option_ids.contains(option_id) {
                    errors.push(FieldError::new(path, format!("unknown option `{option_id}`")));
                } else if !listed.insert(option_id) {
                    errors.push(FieldError::new(path, format!("`{option_id}` is listed twice")));
                }
            }
        }
        let mut rule_ids = Unique::default();
        for (index, rule) in self.pricing_rules.iter().enumerate() {
            let path = at(&format!("pricingRules[{index}]"));
            rule_ids.check_id(&mut errors, &path, &rule.id);
            let source = format!("{path}.sourceId");
            let known = match rule.level {
                PricingLevel::Template => None,
                PricingLevel::Component => Some((&component_ids, "component")),
                PricingLevel::Option => Some((&option_ids, "option")),
                PricingLevel::Color => Some((&color_ids, "colour")),
            };
            match known {
                None if !rule.source_id.is_empty() => errors.push(FieldError::new(
                    source,
                    "a `template` rule applies to the whole product: leave `sourceId` out",
                )),
                None => {}
                Some((ids, kind)) if !ids.contains(&rule.source_id) => {
                    errors.push(FieldError::new(
                        source,
                        format!("references no {kind} of this template (`{}`)", rule.source_id),
                    ));
                }
                Some(_) => {}
            }
            text(&mut errors, &format!("{path}.description"), &rule.description, 1, 200);
            if rule.unit_price < Decimal::ZERO
                || rule.unit_price > Decimal::from(MAX_UNIT_PRICE)
                || rule.unit_price.scale() > 4
            {
                errors.push(FieldError::new(
                    format!("{path}.unitPrice"),
                    format!("0 to {MAX_UNIT_PRICE} with at most 4 decimals"),
                ));
            }
            if let Some(item_type) = &rule.item_type
                && !is_identifier(item_type, 40)
            {
                errors.push(FieldError::new(
                    format!("{path}.itemType"),
                    "1 to 40 letters, digits, `_` or `-` (e.g. `glass`)",
                ));
            }
            if rule.sort_offset.unsigned_abs() > 1_000_000 {
                errors.push(FieldError::new(
                    format!("{path}.sortOffset"),
                    "between -1000000 and 1000000",
                ));
            }
        }
        // The default is judged by the template only when the template itself is sound:
        // otherwise its errors would only echo the ones above.
        if errors.is_empty()
            && let Err(mut found) =
                self.default_configuration.clone().validate(self, &at("defaultConfiguration"))
        {
            errors.append(&mut found);
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// `base.field`, or `field` at the root.
fn join(base: &str, field: &str) -> String {
    if base.is_empty() { field.to_owned() } else { format!("{base}.{field}") }
}

/// Values seen so far of one kind, to report the second use of each.
#[derive(Default)]
struct Unique<'a> {
    seen: HashMap<&'a str, String>,
}

impl<'a> Unique<'a> {
    /// Records `value` at `path`; an error if it was seen before.
    fn check(&mut self, errors: &mut Vec<FieldError>, path: &str, value: &'a str, what: &str) {
        if let Some(first) = self.seen.get(value) {
            errors.push(FieldError::new(path, format!("duplicate {what} `{value}` (see {first})")));
        } else {
            self.seen.insert(value, path.to_owned());
        }
    }

    /// [`Unique::check`] for the `id` of the item at `item`, which must be an identifier.
    fn check_id(&mut self, errors: &mut Vec<FieldError>, item: &str, id: &'a str) {
        let path = format!("{item}.id");
        if !is_identifier(id, 64) {
            errors.push(FieldError::new(path, "1 to 64 letters, digits, `_` or `-`"));
        } else {
            self.check(errors, &path, id, "id");
        }
    }

    fn contains(&self, value: &str) -> bool {
        self.seen.contains_key(value)
    }
}

fn is_identifier(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A URL slug: lowercase ASCII letters, digits and inner hyphens, at most 64 bytes.
pub fn is_slug(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
}

fn is_hex_colour(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn text(errors: &mut Vec<FieldError>, path: &str, value: &str, min: usize, max: usize) {
    let length = value.chars().count();
    if length < min || length > max || (min > 0 && value.trim().is_empty()) {
        let message = if min == 0 {
            format!("at most {max} characters")
        } else {
            format!("{min} to {max} characters, not only spaces")
        };
        errors.push(FieldError::new(path, message));
    }
}

fn count(errors: &mut Vec<FieldError>, path: &str, count: usize, min: usize, max: usize) {
    if count < min || count > max {
        errors.push(FieldError::new(path, format!("{min} to {max} entries")));
    }
}

fn range(errors: &mut Vec<FieldError>, path: &str, range: &DimensionRange) {
    for (field, min, max) in [
        ("Width", range.min_width, range.max_width),
        ("Height", range.min_height, range.max_height),
    ] {
        if min == 0 {
            errors.push(FieldError::new(format!("{path}.min{field}"), "at least 1 mm"));
        }
        if max > MAX_MILLIMETRES {
            errors.push(FieldError::new(
                format!("{path}.max{field}"),
                format!("at most {MAX_MILLIMETRES} mm"),
            ));
        }
        if min > max {
            errors.push(FieldError::new(
                format!("{path}.min{field}"),
                format!("larger than max{field} ({max} mm): no size fits"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> CatalogFile {
        serde_json::from_str(include_str!("../../../examples/catalogs/window-works.json"))
            .expect("the demo catalog parses")
    }

    fn sample() -> TemplateDefinition {
        demo().templates.swap_remove(1)
    }

    fn paths(definition: &TemplateDefinition) -> Vec<String> {
        definition.validate("").err().unwrap_or_default().into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn the_bundled_catalog_is_valid() {
        demo().validate().expect("the demo catalog validates");
    }

    #[test]
    fn the_most_negative_sort_offset_is_refused_not_a_panic() {
        let mut broken = sample();
        broken.pricing_rules[0].sort_offset = i64::MIN;
        assert_eq!(paths(&broken), ["pricingRules[0].sortOffset"]);
    }

    #[test]
    fn each_problem_is_named_by_its_path() {
        let mut broken = sample();
        broken.slug = "Not A Slug".into();
        broken.dimensions.min_width = broken.dimensions.max_width + 1;
        broken.options[1].code = broken.options[0].code.clone();
        broken.components[0].option_ids.push("nope".into());
        broken.pricing_rules[1].source_id = "ghost".into();
        assert_eq!(
            paths(&broken),
            [
                "slug",
                "dimensions.minWidth",
                "options[1].code",
                "components[0].optionIds[6]",
                "pricingRules[1].sourceId",
            ]
        );
    }

    #[test]
    fn a_default_configuration_the_template_refuses_is_reported_at_its_path() {
        let mut broken = sample();
        broken.default_configuration.width = broken.dimensions.max_width + 10;
        assert_eq!(paths(&broken), ["defaultConfiguration.width"]);
    }

    #[test]
    fn a_catalog_file_refuses_a_slug_twice() {
        let mut file = demo();
        file.templates[2].slug = file.templates[0].slug.clone();
        let errors = file.validate().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "templates[2].slug");
    }
}
