//! The canonical configuration (integer millimetres, as in the events catalog) and its
//! validation against a template.
//!
//! Validation reports every problem at once, each with the JSON path of the offending value,
//! and returns the canonical form: the same shape with each component's `selectedOptions`
//! sorted by `optionId` (a selection is a set; its order carries no meaning).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ColorSide, DimensionRange, TemplateDefinition};
use crate::validation::FieldError;

/// What a customer built from a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Configuration {
    /// Overall width in millimetres.
    pub width: u32,
    /// Overall height in millimetres.
    pub height: u32,
    /// The configured parts, in order.
    pub components: Vec<ComponentConfig>,
    /// Inside frame colour.
    #[serde(default)]
    pub inside_color_id: Option<String>,
    /// Outside frame colour.
    #[serde(default)]
    pub outside_color_id: Option<String>,
}

/// One configured part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentConfig {
    /// Which template component this is.
    pub component_id: String,
    /// Width in millimetres.
    pub width: u32,
    /// Height in millimetres.
    pub height: u32,
    /// Chosen options.
    #[serde(default)]
    pub selected_options: Vec<SelectedOption>,
}

/// A chosen option.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectedOption {
    /// Id of a template option.
    pub option_id: String,
}

/// Most components a configuration may hold.
pub const MAX_COMPONENTS: usize = 32;

impl Configuration {
    /// Validates against `template`; `base` is the JSON path of the configuration in the
    /// request body (e.g. `configuration`). Returns the canonical form.
    pub fn validate(
        mut self,
        template: &TemplateDefinition,
        base: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        check_range(&mut errors, base, self.width, self.height, &template.dimensions);
        if self.components.is_empty() {
            errors.push(FieldError::new(format!("{base}.components"), "at least one component"));
        }
        if self.components.len() > MAX_COMPONENTS {
            errors.push(FieldError::new(
                format!("{base}.components"),
                format!("at most {MAX_COMPONENTS} components"),
            ));
        }
        for (index, part) in self.components.iter_mut().enumerate() {
            let path = format!("{base}.components[{index}]");
            validate_component(&mut errors, template, &path, part, self.width, self.height);
            // Sorted only after validation, so error paths index the request's own order.
            part.selected_options.sort();
        }
        for (side, field, value) in [
            (ColorSide::Inside, "insideColorId", &self.inside_color_id),
            (ColorSide::Outside, "outsideColorId", &self.outside_color_id),
        ] {
            let Some(color_id) = value else { continue };
            let path = format!("{base}.{field}");
            match template.color(color_id) {
                None => errors.push(FieldError::new(path, format!("unknown colour `{color_id}`"))),
                Some(color) if !color.sides.contains(&side) => errors.push(FieldError::new(
                    path,
                    format!("colour `{}` is not available on this side", color.name),
                )),
                Some(_) => {}
            }
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

fn validate_component(
    errors: &mut Vec<FieldError>,
    template: &TemplateDefinition,
    path: &str,
    part: &ComponentConfig,
    overall_width: u32,
    overall_height: u32,
) {
    let Some(component) = template.component(&part.component_id) else {
        errors.push(FieldError::new(
            format!("{path}.componentId"),
            format!("unknown component `{}`", part.component_id),
        ));
        return;
    };
    check_range(errors, path, part.width, part.height, &component.dimensions);
    if part.width > overall_width {
        errors.push(FieldError::new(format!("{path}.width"), "wider than the whole product"));
    }
    if part.height > overall_height {
        errors.push(FieldError::new(format!("{path}.height"), "taller than the whole product"));
    }
    let mut seen_groups = HashSet::new();
    for (index, selected) in part.selected_options.iter().enumerate() {
        let path = format!("{path}.selectedOptions[{index}].optionId");
        let Some(option) = template.option(&selected.option_id) else {
            errors.push(FieldError::new(path, format!("unknown option `{}`", selected.option_id)));
            continue;
        };
        if !component.option_ids.contains(&option.id) {
            errors.push(FieldError::new(
                path,
                format!("option `{}` is not available for {}", option.code, component.name),
            ));
        } else if !seen_groups.insert(option.group.as_str()) {
            errors.push(FieldError::new(
                path,
                format!("only one `{}` option per component", option.group),
            ));
        }
    }
}

fn check_range(
    errors: &mut Vec<FieldError>,
    path: &str,
    width: u32,
    height: u32,
    range: &DimensionRange,
) {
    if !(range.min_width..=range.max_width).contains(&width) {
        errors.push(FieldError::new(
            format!("{path}.width"),
            format!("must be between {} and {} mm", range.min_width, range.max_width),
        ));
    }
    if !(range.min_height..=range.max_height).contains(&height) {
        errors.push(FieldError::new(
            format!("{path}.height"),
            format!("must be between {} and {} mm", range.min_height, range.max_height),
        ));
    }
}
