//! The demo: "Window Works Inc" (`window-works`, Pro, EUR, `en`, metric) with the catalog
//! in `examples/catalogs/window-works.json` (a lift-slide door, a tilt & turn window, a
//! French door with sidelights), and "Budget Frames" (`budget-frames`, Free) to try plan
//! gating. Both are made the way an operator makes any organisation ([`services::orgs`],
//! [`services::catalogs::import`]), so the demo cannot drift from what real organisations
//! get. Seeding is idempotent: an existing demo org is left untouched.

use crate::catalog::Template;
use crate::catalog::definition::CatalogFile;
use crate::ids::new_id;
use crate::orgs::{Plan, Scope};
use crate::services::{self, orgs::OrgInput};
use crate::store::{NewApiKey, Store};

/// Slug of the Pro demo organisation.
pub const DEMO_ORG_SLUG: &str = "window-works";
/// Slug of the Free demo organisation (no API access).
pub const FREE_ORG_SLUG: &str = "budget-frames";

/// The demo catalog file, bundled.
pub const CATALOG: &str = include_str!("../../examples/catalogs/window-works.json");

/// Seeds both demo organisations if missing; returns the Pro org's first API key when it
/// was created now.
pub async fn seed(store: &Store) -> anyhow::Result<Option<NewApiKey>> {
    if store.org_by_slug(DEMO_ORG_SLUG).await?.is_some() {
        return Ok(None);
    }
    let file = catalog_file();
    let org = services::orgs::create(
        store,
        OrgInput {
            slug: Some(DEMO_ORG_SLUG.into()),
            name: Some("Window Works Inc".into()),
            email: Some("sales@window-works.example".into()),
            phone: Some("+1 555 0100".into()),
            logo_url: Some("https://window-works.example/logo.png".into()),
            currency: Some("EUR".into()),
            locale: Some("en".into()),
            plan: Some(Plan::Pro),
            ..OrgInput::default()
        },
    )
    .await?;
    services::catalogs::import(store, &org, &file).await?;
    let key = store.create_api_key(&org.id, "demo", Scope::ReadWrite).await?;
    if store.org_by_slug(FREE_ORG_SLUG).await?.is_none() {
        let free = services::orgs::create(
            store,
            OrgInput {
                slug: Some(FREE_ORG_SLUG.into()),
                name: Some("Budget Frames".into()),
                email: Some("hello@budget-frames.example".into()),
                locale: Some("nl".into()),
                plan: Some(Plan::Free),
                ..OrgInput::default()
            },
        )
        .await?;
        let tilt_turn = CatalogFile { templates: vec![file.templates[1].clone()] };
        services::catalogs::import(store, &free, &tilt_turn).await?;
    }
    Ok(Some(key))
}

/// The bundled demo catalog.
pub fn catalog_file() -> CatalogFile {
    serde_json::from_str(CATALOG).expect("the bundled demo catalog parses")
}

/// The demo catalog's templates as version 1 with fresh ids (for tests and benchmarks that
/// give an organisation of their own the demo products).
pub fn catalog() -> Vec<Template> {
    let templates = catalog_file().templates.into_iter();
    templates.map(|definition| Template { id: new_id("tpl"), version: 1, definition }).collect()
}
