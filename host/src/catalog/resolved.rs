//! The human-readable form of a configuration: component names and types, option codes,
//! names and groups, colour names — what a CRM puts in a deal description.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Configuration, Template};

/// A configuration in words.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedConfiguration {
    /// One entry per configured component, in order.
    pub component_selections: Vec<ResolvedComponent>,
    /// Inside frame colour.
    pub inside_color: Option<ResolvedColor>,
    /// Outside frame colour.
    pub outside_color: Option<ResolvedColor>,
    /// Every option chosen anywhere, once each.
    pub selected_options: Vec<ResolvedOptionRef>,
    /// The customer's notes.
    pub notes: Option<String>,
}

/// One component in words.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedComponent {
    /// E.g. `Lift-slide door panel`.
    pub component_name: String,
    /// E.g. `door`.
    pub component_type: String,
    /// Millimetres.
    pub width: u32,
    /// Millimetres.
    pub height: u32,
    /// Its options.
    pub selected_options: Vec<ResolvedOption>,
}

/// An option with its group.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedOption {
    /// E.g. `HRPP`.
    pub code: String,
    /// E.g. `HR++ glass`.
    pub name: String,
    /// E.g. `glass`.
    pub option_group: String,
}

/// An option without its group.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResolvedOptionRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A colour.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResolvedColor {
    /// E.g. `Anthracite`.
    pub name: String,
    /// E.g. `ANTH`.
    pub code: String,
}

impl Template {
    /// The configuration in words (ids that no longer exist are left out).
    pub fn resolve(
        &self,
        configuration: &Configuration,
        notes: Option<&str>,
    ) -> ResolvedConfiguration {
        let mut all_options: Vec<ResolvedOptionRef> = Vec::new();
        let component_selections = configuration
            .components
            .iter()
            .filter_map(|part| {
                let component = self.component(&part.component_id)?;
                let selected_options: Vec<ResolvedOption> = part
                    .selected_options
                    .iter()
                    .filter_map(|s| self.option(&s.option_id))
                    .map(|o| ResolvedOption {
                        code: o.code.clone(),
                        name: o.name.clone(),
                        option_group: o.group.clone(),
                    })
                    .collect();
                for option in &selected_options {
                    let reference =
                        ResolvedOptionRef { code: option.code.clone(), name: option.name.clone() };
                    if !all_options.contains(&reference) {
                        all_options.push(reference);
                    }
                }
                Some(ResolvedComponent {
                    component_name: component.name.clone(),
                    component_type: component.component_type.clone(),
                    width: part.width,
                    height: part.height,
                    selected_options,
                })
            })
            .collect();
        let color = |id: &Option<String>| {
            id.as_deref()
                .and_then(|id| self.color(id))
                .map(|c| ResolvedColor { name: c.name.clone(), code: c.code.clone() })
        };
        ResolvedConfiguration {
            component_selections,
            inside_color: color(&configuration.inside_color_id),
            outside_color: color(&configuration.outside_color_id),
            selected_options: all_options,
            notes: notes.map(str::to_owned),
        }
    }
}
