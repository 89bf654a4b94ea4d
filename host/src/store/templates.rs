//! Template catalogs, each stored as one JSON document beside its lookup columns.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use crate::catalog::Template;
use crate::clock::now_ms;

fn template_from_row(row: &AnyRow) -> anyhow::Result<Template> {
    let definition: String = row.try_get("definition")?;
    Ok(serde_json::from_str(&definition)?)
}

impl Store {
    /// Stores a template for the org (its id and slug come from the document).
    pub async fn insert_template(&self, org_id: &str, template: &Template) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO templates (id, org_id, slug, name, definition, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&template.id)
        .bind(org_id)
        .bind(&template.slug)
        .bind(&template.name)
        .bind(serde_json::to_string(template)?)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        self.clear_cache();
        Ok(())
    }

    /// The org's templates in creation order.
    pub async fn list_templates(&self, org_id: &str) -> anyhow::Result<Vec<Template>> {
        let rows = sqlx::query(
            "SELECT definition FROM templates WHERE org_id = $1 ORDER BY created_at, id",
        )
        .bind(org_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    /// One template of the org, by id or by slug (cached, see [`super::cache`]).
    pub async fn template(
        &self,
        org_id: &str,
        id_or_slug: &str,
    ) -> anyhow::Result<Option<Template>> {
        let load = async {
            let row = sqlx::query(
                "SELECT definition FROM templates WHERE org_id = $1 AND (id = $2 OR slug = $2)",
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
}
