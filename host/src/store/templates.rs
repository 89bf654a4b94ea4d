//! Template catalogs, versioned. `templates` holds each template's current definition
//! (one JSON document beside its lookup columns) and whether it is deleted;
//! `template_versions` every definition it ever had, which open sessions, submissions and
//! quotes keep pricing and describing against.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, Tx};
use crate::catalog::{PricingLevel, Template, TemplateDefinition};
use crate::clock::now_ms;
use crate::ids::new_id;

/// What a [`Store::put_template`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateWrite {
    /// A new slug: version 1.
    Created,
    /// A new version of an existing (or deleted) template.
    Replaced,
    /// The same definition as the current version: nothing written.
    Unchanged,
}

/// A template from its id and version columns and its stored definition. Rules of the
/// `template` level lose any source id older rows carried (it was the template's id).
fn template_from_row(row: &AnyRow) -> anyhow::Result<Template> {
    let definition: String = row.try_get("definition")?;
    let mut definition: TemplateDefinition = serde_json::from_str(&definition)?;
    for rule in &mut definition.pricing_rules {
        if rule.level == PricingLevel::Template {
            rule.source_id.clear();
        }
    }
    Ok(Template { id: row.try_get("id")?, version: row.try_get("version")?, definition })
}

impl Store {
    /// Stores `template` as given (id and version included) for the org: seeding and tests.
    pub async fn insert_template(&self, org_id: &str, template: &Template) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        let definition = serde_json::to_string(&template.definition)?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO templates (id, org_id, slug, name, definition, version, created_at, \
             updated_at, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, \
             (SELECT COALESCE(MAX(position), 0) + 1 FROM templates WHERE org_id = $2))",
        )
        .bind(&template.id)
        .bind(org_id)
        .bind(&template.slug)
        .bind(&template.name)
        .bind(&definition)
        .bind(template.version)
        .bind(now)
        .execute(tx.conn())
        .await?;
        insert_version(&mut tx, &template.id, template.version, &definition, now).await?;
        self.commit_clearing_cache(tx).await
    }

    /// Creates the org's template `definition.slug`, or makes `definition` its next version
    /// (bringing a deleted template back). A definition equal to the current one writes
    /// nothing. Returns the template as it is now, or `None`, writing nothing, when another
    /// write of the same slug committed first (send it again).
    pub async fn put_template(
        &self,
        org_id: &str,
        definition: &TemplateDefinition,
    ) -> anyhow::Result<Option<(Template, TemplateWrite)>> {
        let text = serde_json::to_string(definition)?;
        let mut tx = self.begin().await?;
        let current = sqlx::query(
            "SELECT id, version, definition, deleted_at FROM templates \
             WHERE org_id = $1 AND slug = $2",
        )
        .bind(org_id)
        .bind(&definition.slug)
        .fetch_optional(tx.conn())
        .await?;
        let now = now_ms();
        let (id, version, write) = match current {
            None => {
                let id = new_id("tpl");
                let inserted = sqlx::query(
                    "INSERT INTO templates (id, org_id, slug, name, definition, version, \
                     created_at, updated_at, position) VALUES ($1, $2, $3, $4, $5, 1, $6, $6, \
                     (SELECT COALESCE(MAX(position), 0) + 1 FROM templates WHERE org_id = $2))",
                )
                .bind(&id)
                .bind(org_id)
                .bind(&definition.slug)
                .bind(&definition.name)
                .bind(&text)
                .bind(now)
                .execute(tx.conn())
                .await;
                match inserted {
                    Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                        return Ok(None);
                    }
                    inserted => inserted?,
                };
                (id, 1, TemplateWrite::Created)
            }
            Some(row) => {
                let id: String = row.try_get("id")?;
                let version: i64 = row.try_get("version")?;
                let stored: String = row.try_get("definition")?;
                let deleted: Option<i64> = row.try_get("deleted_at")?;
                if stored == text && deleted.is_none() {
                    let template = Template { id, version, definition: definition.clone() };
                    return Ok(Some((template, TemplateWrite::Unchanged)));
                }
                let updated = sqlx::query(
                    "UPDATE templates SET name = $1, definition = $2, version = $3, \
                     updated_at = $4, deleted_at = NULL WHERE id = $5 AND version = $6",
                )
                .bind(&definition.name)
                .bind(&text)
                .bind(version + 1)
                .bind(now)
                .bind(&id)
                .bind(version)
                .execute(tx.conn())
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok(None);
                }
                (id, version + 1, TemplateWrite::Replaced)
            }
        };
        insert_version(&mut tx, &id, version, &text, now).await?;
        self.commit_clearing_cache(tx).await?;
        Ok(Some((Template { id, version, definition: definition.clone() }, write)))
    }

    /// Hides the org's template (by id or slug) from its catalog; its versions stay for
    /// the sessions, submissions and quotes that use them. False when there was none.
    pub async fn delete_template(&self, org_id: &str, id_or_slug: &str) -> anyhow::Result<bool> {
        let deleted = sqlx::query(
            "UPDATE templates SET deleted_at = $1 \
             WHERE org_id = $2 AND (id = $3 OR slug = $3) AND deleted_at IS NULL",
        )
        .bind(now_ms())
        .bind(org_id)
        .bind(id_or_slug)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1;
        self.clear_cache().await;
        Ok(deleted)
    }

    /// The org's templates in catalog (creation) order, deleted ones left out.
    pub async fn list_templates(&self, org_id: &str) -> anyhow::Result<Vec<Template>> {
        let rows = sqlx::query(
            "SELECT id, version, definition FROM templates \
             WHERE org_id = $1 AND deleted_at IS NULL ORDER BY position, id",
        )
        .bind(org_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    /// How many templates the org's catalog holds, deleted ones left out.
    pub async fn count_templates(&self, org_id: &str) -> anyhow::Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS templates FROM templates WHERE org_id = $1 AND deleted_at IS NULL",
        )
        .bind(org_id)
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get("templates")?)
    }

    /// One template of the org, by id or by slug, as it is now; `None` once deleted
    /// (cached, see [`super::cache`]).
    pub async fn template(
        &self,
        org_id: &str,
        id_or_slug: &str,
    ) -> anyhow::Result<Option<Template>> {
        let load = async {
            let row = sqlx::query(
                "SELECT id, version, definition FROM templates \
                 WHERE org_id = $1 AND (id = $2 OR slug = $2) AND deleted_at IS NULL",
            )
            .bind(org_id)
            .bind(id_or_slug)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(template_from_row).transpose()
        };
        let key = (org_id.to_owned(), id_or_slug.to_owned());
        self.cache.get(&self.cache.templates, key, load).await
    }

    /// The org's template `template_id` at `version` (or [`LATEST`]), deleted or not
    /// (cached, see [`super::cache`]).
    pub async fn template_version(
        &self,
        org_id: &str,
        template_id: &str,
        version: i64,
    ) -> anyhow::Result<Option<Template>> {
        let load = async {
            // The latest version is the one `templates` names (`$3` = 0).
            let row = sqlx::query(
                "SELECT t.id, v.version, v.definition FROM templates t \
                 JOIN template_versions v ON v.template_id = t.id \
                 AND v.version = CASE WHEN $3 = 0 THEN t.version ELSE $3 END \
                 WHERE t.org_id = $1 AND t.id = $2",
            )
            .bind(org_id)
            .bind(template_id)
            .bind(version)
            .fetch_optional(&self.reader)
            .await?;
            row.as_ref().map(template_from_row).transpose()
        };
        let key = (org_id.to_owned(), template_id.to_owned(), version);
        self.cache.get(&self.cache.template_versions, key, load).await
    }

    async fn commit_clearing_cache(&self, tx: Tx) -> anyhow::Result<()> {
        tx.commit().await?;
        self.clear_cache().await;
        Ok(())
    }
}

/// [`Store::template_version`]'s version for "the latest, deleted or not".
pub const LATEST: i64 = 0;

async fn insert_version(
    tx: &mut Tx,
    template_id: &str,
    version: i64,
    definition: &str,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO template_versions (template_id, version, definition, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(template_id)
    .bind(version)
    .bind(definition)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}
