//! The demo: "Window Works Inc" (`window-works`, Pro, EUR, `en`, metric) with a realistic
//! catalog of three templates, and "Budget Frames" (`budget-frames`, Free) to try plan
//! gating. Seeding is idempotent: an existing demo org is left untouched.

use rust_decimal::Decimal;

use crate::catalog::{
    CatalogOption, Color, ColorSide, Component, ComponentConfig, Configuration, DimensionRange,
    PricingLevel, PricingMethod, PricingRule, SelectedOption, Template,
};
use crate::ids::new_id;
use crate::orgs::{Plan, Scope, UnitSystem};
use crate::store::{NewApiKey, NewOrg, Store};

/// Slug of the Pro demo organisation.
pub const DEMO_ORG_SLUG: &str = "window-works";
/// Slug of the Free demo organisation (no API access).
pub const FREE_ORG_SLUG: &str = "budget-frames";

/// Seeds both demo organisations if missing; returns the Pro org's first API key when it
/// was created now.
pub async fn seed(store: &Store) -> anyhow::Result<Option<NewApiKey>> {
    if store.org_by_slug(DEMO_ORG_SLUG).await?.is_some() {
        return Ok(None);
    }
    let org = store
        .insert_org(&NewOrg {
            slug: DEMO_ORG_SLUG.into(),
            name: "Window Works Inc".into(),
            email: "sales@window-works.example".into(),
            phone: Some("+1 555 0100".into()),
            logo_url: Some("https://window-works.example/logo.png".into()),
            locale: "en".into(),
            currency: "EUR".into(),
            unit_system: UnitSystem::Metric,
            plan: Plan::Pro,
            pricing_timeout_ms: 10_000,
        })
        .await?;
    for template in catalog() {
        store.insert_template(&org.id, &template).await?;
    }
    let key = store.create_api_key(&org.id, "demo", Scope::ReadWrite).await?;
    if store.org_by_slug(FREE_ORG_SLUG).await?.is_none() {
        let free = store
            .insert_org(&NewOrg {
                slug: FREE_ORG_SLUG.into(),
                name: "Budget Frames".into(),
                email: "hello@budget-frames.example".into(),
                phone: None,
                logo_url: None,
                locale: "nl".into(),
                currency: "EUR".into(),
                unit_system: UnitSystem::Metric,
                plan: Plan::Free,
                pricing_timeout_ms: 10_000,
            })
            .await?;
        store.insert_template(&free.id, &catalog().swap_remove(1)).await?;
    }
    Ok(Some(key))
}

/// The demo catalog: a lift-slide door, a tilt & turn window, a French door with sidelights.
pub fn catalog() -> Vec<Template> {
    let mut kit = Kit::new();
    vec![
        kit.template(
            "2-panel-lift-slide",
            "2-panel Lift-Slide Door",
            "Large sliding patio door: one lift-slide panel and one more, thermally broken aluminium.",
            range(1800, 6000, 1800, 2800),
            &[
                ("Lift-slide door panel", "door", range(900, 3000, 1700, 2750), &["DG", "HRPP", "TRIPLE", "SAFE", "STD", "SS", "SMART", "RC2"]),
                ("Fixed panel", "fixed", range(600, 3000, 1700, 2750), &["DG", "HRPP", "TRIPLE", "SAFE"]),
            ],
            &[
                (PricingLevel::Template, "", "Aluminium frame", PricingMethod::PerMetre, "45.00", "frame", 5),
                (PricingLevel::Component, "Lift-slide door panel", "Lift-slide door panel", PricingMethod::PerUnit, "480.00", "door", 10),
                (PricingLevel::Component, "Fixed panel", "Fixed panel", PricingMethod::PerUnit, "320.00", "fixed", 12),
                (PricingLevel::Option, "HRPP", "HR++ glass", PricingMethod::PerUnit, "140.25", "glass", 20),
                (PricingLevel::Option, "TRIPLE", "Triple glazing (HR+++)", PricingMethod::PerSquareMetre, "95.00", "glass", 21),
                (PricingLevel::Option, "SAFE", "Laminated safety glass", PricingMethod::PerSquareMetre, "42.50", "glass", 22),
                (PricingLevel::Option, "SS", "Stainless steel handle", PricingMethod::PerUnit, "35.00", "hardware", 30),
                (PricingLevel::Option, "SMART", "Smart lock", PricingMethod::PerUnit, "289.00", "hardware", 31),
                (PricingLevel::Option, "RC2", "RC2 burglar resistance", PricingMethod::PerUnit, "175.00", "security", 40),
                (PricingLevel::Color, "ANTH", "Anthracite finish", PricingMethod::PerSquareMetre, "18.00", "finish", 50),
                (PricingLevel::Color, "OAK", "Golden oak foil", PricingMethod::PerSquareMetre, "24.50", "finish", 51),
                (PricingLevel::Template, "", "Delivery", PricingMethod::PerUnit, "95.00", "delivery", 90),
            ],
            (2400, 1800, &[("Lift-slide door panel", 1185, 1740, &["HRPP"]), ("Lift-slide door panel", 1185, 1740, &["HRPP"])], Some("ANTH"), Some("WHITE")),
        ),
        kit.template(
            "tilt-turn-window",
            "Tilt & Turn Window",
            "uPVC window with a tilt & turn sash and an optional fixed light.",
            range(400, 2400, 400, 2200),
            &[
                ("Tilt & turn sash", "window", range(400, 1200, 400, 2200), &["DG", "HRPP", "TRIPLE", "STD", "SS", "RC2"]),
                ("Fixed light", "fixed", range(300, 1800, 300, 2200), &["DG", "HRPP", "TRIPLE"]),
            ],
            &[
                (PricingLevel::Template, "", "uPVC frame", PricingMethod::PerMetre, "38.00", "frame", 5),
                (PricingLevel::Component, "Tilt & turn sash", "Tilt & turn sash", PricingMethod::PerSquareMetre, "210.00", "window", 10),
                (PricingLevel::Component, "Fixed light", "Fixed light", PricingMethod::PerSquareMetre, "150.00", "fixed", 12),
                (PricingLevel::Option, "HRPP", "HR++ glass", PricingMethod::PerSquareMetre, "55.00", "glass", 20),
                (PricingLevel::Option, "TRIPLE", "Triple glazing (HR+++)", PricingMethod::PerSquareMetre, "89.90", "glass", 21),
                (PricingLevel::Option, "SS", "Stainless steel handle", PricingMethod::PerUnit, "29.50", "hardware", 30),
                (PricingLevel::Option, "RC2", "RC2 burglar resistance", PricingMethod::PerUnit, "120.00", "security", 40),
                (PricingLevel::Color, "ANTH", "Anthracite finish", PricingMethod::PerSquareMetre, "14.00", "finish", 50),
                (PricingLevel::Color, "OAK", "Golden oak foil", PricingMethod::PerSquareMetre, "19.75", "finish", 51),
            ],
            (1200, 1400, &[("Tilt & turn sash", 600, 1400, &["HRPP", "STD"]), ("Fixed light", 600, 1400, &["HRPP"])], Some("WHITE"), Some("ANTH")),
        ),
        kit.template(
            "french-door-sidelights",
            "French Door with Sidelights",
            "Outward-opening double door with two glazed sidelights and a transom window.",
            range(1400, 4000, 2000, 3000),
            &[
                ("Door leaf", "door", range(600, 1000, 1900, 2500), &["DG", "HRPP", "SAFE", "STD", "SS", "SMART", "RC2"]),
                ("Sidelight", "fixed", range(250, 800, 1900, 2500), &["DG", "HRPP", "SAFE"]),
                ("Transom window", "window", range(1000, 4000, 250, 600), &["DG", "HRPP"]),
            ],
            &[
                (PricingLevel::Template, "", "Hardwood frame", PricingMethod::PerMetre, "62.00", "frame", 5),
                (PricingLevel::Component, "Door leaf", "Door leaf", PricingMethod::PerUnit, "640.00", "door", 10),
                (PricingLevel::Component, "Sidelight", "Sidelight", PricingMethod::PerSquareMetre, "180.00", "fixed", 12),
                (PricingLevel::Component, "Transom window", "Transom window", PricingMethod::PerSquareMetre, "230.00", "window", 14),
                (PricingLevel::Option, "HRPP", "HR++ glass", PricingMethod::PerSquareMetre, "58.00", "glass", 20),
                (PricingLevel::Option, "SAFE", "Laminated safety glass", PricingMethod::PerSquareMetre, "46.00", "glass", 22),
                (PricingLevel::Option, "SS", "Stainless steel handle", PricingMethod::PerUnit, "35.00", "hardware", 30),
                (PricingLevel::Option, "SMART", "Smart lock", PricingMethod::PerUnit, "289.00", "hardware", 31),
                (PricingLevel::Option, "RC2", "RC2 burglar resistance", PricingMethod::PerUnit, "175.00", "security", 40),
                (PricingLevel::Color, "BLACK", "Jet black finish", PricingMethod::PerSquareMetre, "16.00", "finish", 50),
                (PricingLevel::Template, "", "Installation", PricingMethod::PerUnit, "450.00", "labor", 95),
            ],
            (2600, 2700, &[
                ("Sidelight", 400, 2200, &["SAFE"]),
                ("Door leaf", 900, 2200, &["HRPP", "SS"]),
                ("Door leaf", 900, 2200, &["HRPP", "SMART"]),
                ("Sidelight", 400, 2200, &["SAFE"]),
                ("Transom window", 2600, 450, &["HRPP"]),
            ], Some("WHITE"), Some("BLACK")),
        ),
    ]
}

fn range(min_width: u32, max_width: u32, min_height: u32, max_height: u32) -> DimensionRange {
    DimensionRange { min_width, max_width, min_height, max_height }
}

/// `(name, type, size range, accepted option codes)`
type ComponentSpec<'a> = (&'a str, &'a str, DimensionRange, &'a [&'a str]);
/// `(level, component name / option code / colour code, description, method, price, item type, sort)`
type RuleSpec<'a> = (PricingLevel, &'a str, &'a str, PricingMethod, &'a str, &'a str, i64);
/// `(width, height, [(component name, width, height, option codes)], inside colour, outside colour)`
type DefaultSpec<'a> =
    (u32, u32, &'a [(&'a str, u32, u32, &'a [&'a str])], Option<&'a str>, Option<&'a str>);

/// Shared option and colour vocabulary; every template gets its own ids.
struct Kit {
    options: Vec<(&'static str, &'static str, &'static str)>,
    colors: Vec<(&'static str, &'static str, &'static str, &'static [ColorSide])>,
}

impl Kit {
    fn new() -> Self {
        use ColorSide::{Inside, Outside};
        Self {
            options: vec![
                ("DG", "Double glazing", "glass"),
                ("HRPP", "HR++ glass", "glass"),
                ("TRIPLE", "Triple glazing (HR+++)", "glass"),
                ("SAFE", "Laminated safety glass", "glass"),
                ("STD", "Standard handle", "hardware"),
                ("SS", "Stainless steel handle", "hardware"),
                ("SMART", "Smart lock", "hardware"),
                ("RC2", "RC2 burglar resistance", "security"),
            ],
            colors: vec![
                ("WHITE", "White", "#F1F0EA", &[Inside, Outside]),
                ("ANTH", "Anthracite", "#383E42", &[Inside, Outside]),
                ("BLACK", "Jet black", "#0A0A0A", &[Inside, Outside]),
                ("OAK", "Golden oak", "#B5803F", &[Outside]),
            ],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn template(
        &mut self,
        slug: &str,
        name: &str,
        description: &str,
        dimensions: DimensionRange,
        components: &[ComponentSpec<'_>],
        rules: &[RuleSpec<'_>],
        default: DefaultSpec<'_>,
    ) -> Template {
        let template_id = new_id("tpl");
        let options: Vec<CatalogOption> = self
            .options
            .iter()
            .map(|&(code, name, group)| CatalogOption {
                id: new_id("opt"),
                code: code.into(),
                name: name.into(),
                group: group.into(),
            })
            .collect();
        let option_id =
            |code: &str| options.iter().find(|o| o.code == code).expect("known option").id.clone();
        let colors: Vec<Color> = self
            .colors
            .iter()
            .map(|&(code, name, hex, sides)| Color {
                id: new_id("col"),
                name: name.into(),
                code: code.into(),
                hex: hex.into(),
                sides: sides.to_vec(),
            })
            .collect();
        let color_id =
            |code: &str| colors.iter().find(|c| c.code == code).expect("known colour").id.clone();
        let components: Vec<Component> = components
            .iter()
            .map(|&(name, kind, dimensions, codes)| Component {
                id: new_id("cmp"),
                name: name.into(),
                component_type: kind.into(),
                dimensions,
                option_ids: codes.iter().map(|code| option_id(code)).collect(),
            })
            .collect();
        let component_id = |name: &str| {
            components.iter().find(|c| c.name == name).expect("known component").id.clone()
        };
        let pricing_rules = rules
            .iter()
            .map(|&(level, source, description, method, price, item_type, sort_offset)| {
                PricingRule {
                    id: new_id("prc"),
                    level,
                    source_id: match level {
                        PricingLevel::Template => template_id.clone(),
                        PricingLevel::Component => component_id(source),
                        PricingLevel::Option => option_id(source),
                        PricingLevel::Color => color_id(source),
                    },
                    description: description.into(),
                    method,
                    unit_price: price.parse::<Decimal>().expect("valid demo price"),
                    item_type: Some(item_type.into()),
                    sort_offset,
                }
            })
            .collect();
        let (width, height, parts, inside, outside) = default;
        let default_configuration = Configuration {
            width,
            height,
            components: parts
                .iter()
                .map(|&(name, width, height, codes)| ComponentConfig {
                    component_id: component_id(name),
                    width,
                    height,
                    selected_options: codes
                        .iter()
                        .map(|code| SelectedOption { option_id: option_id(code) })
                        .collect(),
                })
                .collect(),
            inside_color_id: inside.map(color_id),
            outside_color_id: outside.map(color_id),
        };
        Template {
            id: template_id,
            slug: slug.into(),
            name: name.into(),
            description: description.into(),
            dimensions,
            components,
            options,
            colors,
            pricing_rules,
            default_configuration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_configuration_is_valid() {
        for template in catalog() {
            let configuration = template.default_configuration.clone();
            configuration.validate(&template, "configuration").unwrap_or_else(|errors| {
                panic!("{} default is invalid: {errors:?}", template.slug)
            });
        }
    }
}
