//! Operators provision organisations: create one, change its profile or plan, disable and
//! enable it, give it API keys. The CLI (`winfactor orgs …`) and the operator API
//! (`/admin/v1`) both come here, so they validate and behave alike.
//!
//! A disabled organisation keeps its data: its keys are refused, its public pages answer
//! 404 and its webhook deliveries wait (they are not spent) until it is enabled again.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{Error, Result};
use crate::catalog::definition::is_slug;
use crate::orgs::{Org, Plan, Scope, UnitSystem};
use crate::store::{NewApiKey, NewOrg, OrgChanges, Store};
use crate::validation::{FieldError, is_email};

/// An organisation's profile as an operator writes it. Creating needs `slug`, `name` and
/// `email`; an update changes what it names (`slug` and `currency` are fixed once created:
/// the catalog's prices are in that currency).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgInput {
    /// URL slug: lowercase letters, digits and inner hyphens.
    pub slug: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Contact email.
    pub email: Option<String>,
    /// Contact phone (empty: none).
    pub phone: Option<String>,
    /// Logo URL, `http(s)://…` (empty: none).
    pub logo_url: Option<String>,
    /// ISO 4217 code of every price (default `EUR`).
    pub currency: Option<String>,
    /// Default locale such as `en` or `nl-BE` (default `en`).
    pub locale: Option<String>,
    /// How customers see dimensions (default `metric`).
    pub unit_system: Option<UnitSystem>,
    /// Subscription plan (default `free`).
    pub plan: Option<Plan>,
    /// Configurator wait for external prices, 500–60000 ms (default 10000).
    pub pricing_timeout_ms: Option<i64>,
}

/// The checks of an organisation's profile fields, shared with the organisation's own
/// `PATCH /api/v1/organization`.
#[derive(Default)]
pub struct ProfileCheck {
    /// Problems found so far.
    pub errors: Vec<FieldError>,
}

impl ProfileCheck {
    fn check(&mut self, ok: bool, path: &str, message: &str) {
        if !ok {
            self.errors.push(FieldError::new(path, message));
        }
    }

    /// A display name: 1 to 200 characters, not only spaces.
    pub fn name(&mut self, name: &str) {
        self.check(
            !name.trim().is_empty() && name.chars().count() <= 200,
            "name",
            "1 to 200 characters",
        );
    }

    /// A contact email.
    pub fn email(&mut self, email: &str) {
        self.check(is_email(email), "email", "not an email address");
    }

    /// A phone number of at most 50 characters.
    pub fn phone(&mut self, phone: &str) {
        self.check(phone.chars().count() <= 50, "phone", "at most 50 characters");
    }

    /// An http(s) URL of at most 2048 characters.
    pub fn logo_url(&mut self, url: &str) {
        let web = url.starts_with("https://") || url.starts_with("http://");
        self.check(
            web && url.len() <= 2048,
            "logoUrl",
            "an http(s) URL of at most 2048 characters",
        );
    }

    /// A locale such as `en` or `nl-BE`.
    pub fn locale(&mut self, locale: &str) {
        self.check(is_locale(locale), "locale", "a locale such as `en` or `nl-BE`");
    }

    /// The configurator's wait for external prices.
    pub fn pricing_timeout_ms(&mut self, timeout: i64) {
        self.check((500..=60_000).contains(&timeout), "pricingTimeoutMs", "between 500 and 60000");
    }

    /// `Err` with every problem found, if any.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Invalid(self.errors)) }
    }
}

fn is_locale(text: &str) -> bool {
    let (language, region) = text.split_once('-').unwrap_or((text, "AA"));
    language.len() == 2
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.len() == 2
        && region.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl OrgInput {
    /// Every problem of the fields given.
    fn check(&self) -> ProfileCheck {
        let mut check = ProfileCheck::default();
        if let Some(slug) = &self.slug {
            check.check(is_slug(slug), "slug", "1 to 64 lowercase letters, digits, inner hyphens");
        }
        if let Some(name) = &self.name {
            check.name(name);
        }
        if let Some(email) = &self.email {
            check.email(email);
        }
        if let Some(phone) = &self.phone {
            check.phone(phone);
        }
        if let Some(url) = self.logo_url.as_ref().filter(|url| !url.is_empty()) {
            check.logo_url(url);
        }
        if let Some(currency) = &self.currency {
            check.check(is_currency(currency), "currency", "an ISO 4217 code such as `EUR`");
        }
        if let Some(locale) = &self.locale {
            check.locale(locale);
        }
        if let Some(timeout) = self.pricing_timeout_ms {
            check.pricing_timeout_ms(timeout);
        }
        check
    }
}

/// Creates an organisation (`slug_taken` if the slug is in use).
pub async fn create(store: &Store, input: OrgInput) -> Result<Org> {
    let mut check = input.check();
    for (field, given) in [
        ("slug", input.slug.is_some()),
        ("name", input.name.is_some()),
        ("email", input.email.is_some()),
    ] {
        check.check(given, field, "required");
    }
    check.finish()?;
    let slug = input.slug.unwrap_or_default();
    if store.org_by_slug(&slug).await?.is_some() {
        return Err(taken(&slug));
    }
    let new = NewOrg {
        slug: slug.clone(),
        name: input.name.unwrap_or_default().trim().to_owned(),
        email: input.email.unwrap_or_default(),
        phone: input.phone.filter(|phone| !phone.is_empty()),
        logo_url: input.logo_url.filter(|url| !url.is_empty()),
        locale: input.locale.unwrap_or_else(|| "en".into()),
        currency: input.currency.unwrap_or_else(|| "EUR".into()),
        unit_system: input.unit_system.unwrap_or(UnitSystem::Metric),
        plan: input.plan.unwrap_or(Plan::Free),
        pricing_timeout_ms: input.pricing_timeout_ms.unwrap_or(10_000),
    };
    match store.insert_org(&new).await {
        Ok(org) => Ok(org),
        // Lost a race for the slug to another creation.
        Err(_) if store.org_by_slug(&slug).await?.is_some() => Err(taken(&slug)),
        Err(err) => Err(err.into()),
    }
}

fn taken(slug: &str) -> Error {
    Error::conflict("slug_taken", format!("an organisation with slug `{slug}` exists"))
}

/// The organisation with this slug, disabled or not.
pub async fn find(store: &Store, slug: &str) -> Result<Org> {
    store.org_by_slug(slug).await?.ok_or(Error::NotFound("organisation"))
}

/// Changes the profile or plan of organisation `slug`.
pub async fn update(store: &Store, slug: &str, input: OrgInput) -> Result<Org> {
    let mut check = input.check();
    if input.slug.as_ref().is_some_and(|new| new != slug) {
        check.check(false, "slug", "cannot change: links and callbacks carry it");
    }
    if input.currency.is_some() {
        check.check(false, "currency", "cannot change: the catalog's prices are in it");
    }
    check.finish()?;
    let org = find(store, slug).await?;
    let changes = OrgChanges {
        name: input.name.map(|name| name.trim().to_owned()),
        email: input.email,
        phone: input.phone.map(|phone| Some(phone).filter(|phone| !phone.is_empty())),
        logo_url: input.logo_url.map(|url| Some(url).filter(|url| !url.is_empty())),
        locale: input.locale,
        pricing_timeout_ms: input.pricing_timeout_ms,
        unit_system: input.unit_system,
        plan: input.plan,
    };
    Ok(store.update_org(&org.id, &changes).await?)
}

/// Disables (`true`) or enables organisation `slug`; returns it as it is now.
pub async fn set_disabled(store: &Store, slug: &str, disabled: bool) -> Result<Org> {
    let org = find(store, slug).await?;
    store.set_org_disabled(&org.id, disabled).await?;
    find(store, slug).await
}

/// A new API key of organisation `slug` (its secret is in the answer only).
pub async fn create_key(store: &Store, slug: &str, name: &str, scope: Scope) -> Result<NewApiKey> {
    let mut check = ProfileCheck::default();
    check.check(
        !name.trim().is_empty() && name.chars().count() <= 100,
        "name",
        "1 to 100 characters",
    );
    check.finish()?;
    let org = find(store, slug).await?;
    Ok(store.create_api_key(&org.id, name.trim(), scope).await?)
}
