//! An organisation's catalog: put (create or replace) and delete one template, import and
//! export the whole catalog as a file. REST v1, the CLI and the demo seed all come here.
//!
//! A replacement becomes the template's next version; open sessions keep pricing against
//! the version they started with until their configuration changes, submissions and
//! quotes keep theirs for good (see [`crate::store::Store::put_template`]).

use crate::catalog::definition::CatalogFile;
use crate::catalog::{Template, TemplateDefinition};
use crate::orgs::Org;
use crate::store::{Store, TemplateWrite};
use crate::validation::FieldError;

use super::{Error, Result};

/// Validates `definition` and stores it as the org's template `definition.slug`; answers
/// the template as it is now and what the write did.
pub async fn put(
    store: &Store,
    org: &Org,
    definition: &TemplateDefinition,
) -> Result<(Template, TemplateWrite)> {
    definition.validate("").map_err(Error::Invalid)?;
    put_valid(store, org, definition).await
}

/// Stores an already validated definition within the plan's template limit.
async fn put_valid(
    store: &Store,
    org: &Org,
    definition: &TemplateDefinition,
) -> Result<(Template, TemplateWrite)> {
    if store.template(&org.id, &definition.slug).await?.is_none() {
        let limit = org.features().max_templates;
        if store.count_templates(&org.id).await? >= i64::from(limit) {
            return Err(Error::conflict(
                "template_limit",
                format!("the {} plan allows {limit} templates", org.plan.as_str()),
            ));
        }
    }
    store.put_template(&org.id, definition).await?.ok_or_else(|| {
        Error::conflict(
            "concurrent_changes",
            format!("template `{}` changed meanwhile; send it again", definition.slug),
        )
    })
}

/// Hides a template (by id or slug) from the org's catalog (open sessions on it carry on).
pub async fn delete(store: &Store, org: &Org, id_or_slug: &str) -> Result<()> {
    if store.delete_template(&org.id, id_or_slug).await? {
        Ok(())
    } else {
        Err(Error::NotFound("template"))
    }
}

/// What an import did, per template slug, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// `(slug, write)` for every template of the file.
    pub templates: Vec<(String, TemplateWrite)>,
}

/// Puts every template of `file` into the org's catalog after validating the whole file
/// (nothing is written if any template is invalid). Templates the file does not name are
/// left as they are.
pub async fn import(store: &Store, org: &Org, file: &CatalogFile) -> Result<ImportReport> {
    file.validate().map_err(Error::Invalid)?;
    let mut templates = Vec::with_capacity(file.templates.len());
    for definition in &file.templates {
        let (_, write) = put_valid(store, org, definition).await?;
        templates.push((definition.slug.clone(), write));
    }
    Ok(ImportReport { templates })
}

/// Parses a catalog file's text: a JSON syntax or shape error is reported at its path.
pub fn parse(text: &str) -> Result<CatalogFile> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { String::new() } else { path };
        Error::Invalid(vec![FieldError::new(path, err.into_inner().to_string())])
    })
}

/// The org's catalog as a file: its templates in creation order, deleted ones left out.
/// Importing it into another organisation (or database) and exporting that gives the same
/// text.
pub async fn export(store: &Store, org: &Org) -> Result<CatalogFile> {
    let templates = store.list_templates(&org.id).await?;
    Ok(CatalogFile { templates: templates.into_iter().map(|t| t.definition).collect() })
}
