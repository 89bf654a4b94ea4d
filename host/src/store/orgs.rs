//! Organisations.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, parse_stored};
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::orgs::{Org, Plan, UnitSystem};

/// What it takes to create an organisation.
#[derive(Debug, Clone)]
pub struct NewOrg {
    /// URL slug, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Contact email.
    pub email: String,
    /// Contact phone.
    pub phone: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Default locale.
    pub locale: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Display unit system.
    pub unit_system: UnitSystem,
    /// Subscription plan.
    pub plan: Plan,
    /// Configurator wait for external prices.
    pub pricing_timeout_ms: i64,
}

const ORG_COLUMNS: &str = "id, slug, name, email, phone, logo_url, locale, currency, unit_system, \
                           plan, pricing_timeout_ms, created_at, disabled_at";

pub(super) fn org_from_row(row: &AnyRow) -> anyhow::Result<Org> {
    Ok(Org {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        logo_url: row.try_get("logo_url")?,
        locale: row.try_get("locale")?,
        currency: row.try_get("currency")?,
        unit_system: parse_stored(row.try_get("unit_system")?, UnitSystem::parse, "unit system")?,
        plan: parse_stored(row.try_get("plan")?, Plan::parse, "plan")?,
        pricing_timeout_ms: row.try_get("pricing_timeout_ms")?,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
    })
}

impl Store {
    /// Creates an organisation.
    pub async fn insert_org(&self, new: &NewOrg) -> anyhow::Result<Org> {
        let id = new_id("org");
        sqlx::query(
            "INSERT INTO orgs (id, slug, name, email, phone, logo_url, locale, currency, \
             unit_system, plan, pricing_timeout_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&new.slug)
        .bind(&new.name)
        .bind(&new.email)
        .bind(&new.phone)
        .bind(&new.logo_url)
        .bind(&new.locale)
        .bind(&new.currency)
        .bind(new.unit_system.as_str())
        .bind(new.plan.as_str())
        .bind(new.pricing_timeout_ms)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        self.clear_cache().await;
        self.org(&id).await?.ok_or_else(|| anyhow::anyhow!("inserted org {id} vanished"))
    }

    /// An organisation by id (cached, see [`super::cache`]).
    pub async fn org(&self, org_id: &str) -> anyhow::Result<Option<Org>> {
        let load = self.org_where("id", org_id);
        self.cache.get(&self.cache.orgs, org_id.to_owned(), load).await
    }

    /// An organisation by slug (cached, see [`super::cache`]).
    pub async fn org_by_slug(&self, slug: &str) -> anyhow::Result<Option<Org>> {
        let load = self.org_where("slug", slug);
        self.cache.get(&self.cache.orgs_by_slug, slug.to_owned(), load).await
    }

    /// Every organisation, oldest first.
    pub async fn list_orgs(&self) -> anyhow::Result<Vec<Org>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY created_at, id");
        let rows = sqlx::query(&sql).fetch_all(&self.reader).await?;
        rows.iter().map(org_from_row).collect()
    }

    /// Disables the org (now) or enables it again; false when it was already so.
    pub async fn set_org_disabled(&self, org_id: &str, disabled: bool) -> anyhow::Result<bool> {
        let sql = if disabled {
            "UPDATE orgs SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL"
        } else {
            "UPDATE orgs SET disabled_at = NULL WHERE id = $2 AND disabled_at IS NOT NULL"
        };
        let done = sqlx::query(sql)
            .bind(now_ms())
            .bind(org_id)
            .execute(&self.writer)
            .await?
            .rows_affected();
        self.clear_cache().await;
        Ok(done == 1)
    }

    /// Reads the org whose `column` (`id` or `slug`) is `value`, past the cache.
    async fn org_where(&self, column: &str, value: &str) -> anyhow::Result<Option<Org>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE {column} = $1");
        let row = sqlx::query(&sql).bind(value).fetch_optional(&self.reader).await?;
        row.as_ref().map(org_from_row).transpose()
    }
}

/// Changes to an organisation's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgChanges {
    /// New display name.
    pub name: Option<String>,
    /// New contact email.
    pub email: Option<String>,
    /// New phone (`Some(None)` clears it).
    pub phone: Option<Option<String>>,
    /// New logo URL (`Some(None)` clears it).
    pub logo_url: Option<Option<String>>,
    /// New default locale.
    pub locale: Option<String>,
    /// New configurator wait for external prices.
    pub pricing_timeout_ms: Option<i64>,
    /// New display unit system.
    pub unit_system: Option<UnitSystem>,
    /// New plan (operators only).
    pub plan: Option<Plan>,
}

impl Store {
    /// Applies `changes` to the org and returns it.
    pub async fn update_org(&self, org_id: &str, changes: &OrgChanges) -> anyhow::Result<Org> {
        let org = self.org_where("id", org_id).await?;
        let org = org.ok_or_else(|| anyhow::anyhow!("org {org_id} vanished"))?;
        sqlx::query(
            "UPDATE orgs SET name = $1, email = $2, phone = $3, logo_url = $4, locale = $5, \
             pricing_timeout_ms = $6, unit_system = $7, plan = $8 WHERE id = $9",
        )
        .bind(changes.name.as_ref().unwrap_or(&org.name))
        .bind(changes.email.as_ref().unwrap_or(&org.email))
        .bind(changes.phone.clone().unwrap_or(org.phone))
        .bind(changes.logo_url.clone().unwrap_or(org.logo_url))
        .bind(changes.locale.as_ref().unwrap_or(&org.locale))
        .bind(changes.pricing_timeout_ms.unwrap_or(org.pricing_timeout_ms))
        .bind(changes.unit_system.unwrap_or(org.unit_system).as_str())
        .bind(changes.plan.unwrap_or(org.plan).as_str())
        .bind(org_id)
        .execute(&self.writer)
        .await?;
        self.clear_cache().await;
        self.org(org_id).await?.ok_or_else(|| anyhow::anyhow!("org {org_id} vanished"))
    }
}
