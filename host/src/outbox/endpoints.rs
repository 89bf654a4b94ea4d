//! Webhook endpoints (subscriptions) and their signing secrets: the SQL of
//! `webhook_endpoints`, [`WebhookEndpoints`] on the store for the API, and what emitting
//! and claiming read (who subscribes, with which filters; the endpoints of claimed
//! deliveries) through a per-store read cache.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use moka::sync::Cache;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;
use url::{ParseError, Url};

use super::{Envelope, EventType, filters};
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::orgs::Org;
use crate::store::{Attachment, Store, Tx, cache};

/// A subscription: where to POST which events, signed with which secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `whe_…`
    pub id: String,
    /// Owning organisation.
    pub org_id: String,
    /// Target URL.
    pub url: String,
    /// Free text for the integrator.
    pub description: Option<String>,
    /// Subscribed event types (`*` for all).
    pub events: Vec<String>,
    /// Content filters on the envelope (see [`super::filters`]).
    pub filters: Option<Value>,
    /// Disabled endpoints get no new deliveries.
    pub enabled: bool,
    /// Why the platform disabled it (`gone`, `failing`), if it did.
    pub disabled_reason: Option<String>,
    /// Current signing secret (`whsec_…`).
    pub secret: String,
    /// The secret before the last rotation, still signing until it expires.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing (epoch ms).
    pub previous_secret_expires_at: Option<i64>,
    /// Start of the current run of failures (epoch ms), cleared by a success.
    pub failing_since: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// `url` parsed once, when loaded: the deliveries of a claim batch share one endpoint.
    target: Result<Url, ParseError>,
}

impl Endpoint {
    /// The URL parsed (an error only for a row edited by hand: registration refuses what
    /// does not parse).
    pub fn target(&self) -> Result<&Url, ParseError> {
        self.target.as_ref().map_err(|err| *err)
    }

    /// Whether the endpoint wants events of this type.
    pub fn subscribes_to(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event_type)
    }

    /// The secrets deliveries are signed with right now (current first).
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// A new endpoint, validated by the API layer.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Target URL.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed event types.
    pub events: Vec<String>,
    /// Content filters.
    pub filters: Option<Value>,
    /// Start enabled?
    pub enabled: bool,
    /// Generated signing secret.
    pub secret: String,
}

/// Changes to an endpoint; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    /// New URL.
    pub url: Option<String>,
    /// New description (`Some(None)` clears).
    pub description: Option<Option<String>>,
    /// New subscriptions.
    pub events: Option<Vec<String>>,
    /// New filters (`Some(None)` clears).
    pub filters: Option<Option<Value>>,
    /// Enable or disable; enabling clears the platform's disable reason and failure run.
    pub enabled: Option<bool>,
}

const COLUMNS: &str = "id, org_id, url, description, events, filters, enabled, disabled_reason, \
    secret, previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at";

fn endpoint_from_row(row: &AnyRow) -> anyhow::Result<Endpoint> {
    let events: String = row.try_get("events")?;
    let filters: Option<String> = row.try_get("filters")?;
    let url: String = row.try_get("url")?;
    Ok(Endpoint {
        target: Url::parse(&url),
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        url,
        description: row.try_get("description")?,
        events: serde_json::from_str(&events)?,
        filters: filters.map(|f| serde_json::from_str(&f)).transpose()?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        secret: row.try_get("secret")?,
        previous_secret: row.try_get("previous_secret")?,
        previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
        failing_since: row.try_get("failing_since")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The webhook endpoints of an organisation, on the [`Store`]: what the API manages.
pub trait WebhookEndpoints {
    /// Creates an endpoint.
    fn insert_endpoint(
        &self,
        org_id: &str,
        new: &NewEndpoint,
    ) -> impl Future<Output = anyhow::Result<Endpoint>> + Send;

    /// The org's endpoints, oldest first.
    fn list_endpoints(
        &self,
        org_id: &str,
    ) -> impl Future<Output = anyhow::Result<Vec<Endpoint>>> + Send;

    /// One endpoint of the org.
    fn endpoint(
        &self,
        org_id: &str,
        id: &str,
    ) -> impl Future<Output = anyhow::Result<Option<Endpoint>>> + Send;

    /// Applies changes; `None` when the org has no such endpoint.
    fn update_endpoint(
        &self,
        org_id: &str,
        id: &str,
        changes: &EndpointChanges,
    ) -> impl Future<Output = anyhow::Result<Option<Endpoint>>> + Send;

    /// Deletes an endpoint; its pending deliveries fail. False when not found.
    fn delete_endpoint(
        &self,
        org_id: &str,
        id: &str,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Replaces the secret; the old one keeps signing until `grace_until` (epoch ms).
    fn rotate_endpoint_secret(
        &self,
        org_id: &str,
        id: &str,
        new_secret: &str,
        grace_until: i64,
    ) -> impl Future<Output = anyhow::Result<Option<Endpoint>>> + Send;
}

impl WebhookEndpoints for Store {
    async fn insert_endpoint(&self, org_id: &str, new: &NewEndpoint) -> anyhow::Result<Endpoint> {
        let id = new_id("whe");
        let now = now_ms();
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, org_id, url, description, events, filters, enabled, \
             secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(&new.url)
        .bind(&new.description)
        .bind(serde_json::to_string(&new.events)?)
        .bind(new.filters.as_ref().map(Value::to_string))
        .bind(i64::from(new.enabled))
        .bind(&new.secret)
        .bind(now)
        .execute(self.writer())
        .await?;
        self.clear_cache().await;
        self.endpoint(org_id, &id).await?.ok_or_else(|| anyhow::anyhow!("endpoint {id} vanished"))
    }

    async fn list_endpoints(&self, org_id: &str) -> anyhow::Result<Vec<Endpoint>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(self.reader()).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    async fn endpoint(&self, org_id: &str, id: &str) -> anyhow::Result<Option<Endpoint>> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org_id).bind(id).fetch_optional(self.reader()).await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    async fn update_endpoint(
        &self,
        org_id: &str,
        id: &str,
        changes: &EndpointChanges,
    ) -> anyhow::Result<Option<Endpoint>> {
        let Some(current) = self.endpoint(org_id, id).await? else {
            return Ok(None);
        };
        let enabled = changes.enabled.unwrap_or(current.enabled);
        let re_enabled = enabled && !current.enabled;
        let filters = changes.filters.clone().unwrap_or(current.filters);
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, filters = $4, \
             enabled = $5, disabled_reason = $6, failing_since = $7, updated_at = $8 \
             WHERE org_id = $9 AND id = $10",
        )
        .bind(changes.url.as_ref().unwrap_or(&current.url))
        .bind(changes.description.clone().unwrap_or(current.description))
        .bind(serde_json::to_string(changes.events.as_ref().unwrap_or(&current.events))?)
        .bind(filters.as_ref().map(Value::to_string))
        .bind(i64::from(enabled))
        .bind(if enabled { None } else { current.disabled_reason })
        .bind(if re_enabled { None } else { current.failing_since })
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        self.clear_cache().await;
        self.endpoint(org_id, id).await
    }

    async fn delete_endpoint(&self, org_id: &str, id: &str) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE deliveries SET status = 'failed', last_error = 'endpoint deleted', \
             next_attempt_at = NULL, updated_at = $1 \
             WHERE org_id = $2 AND endpoint_id = $3 AND status = 'pending'",
        )
        .bind(now)
        .bind(org_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        self.clear_cache().await;
        Ok(done.rows_affected() == 1)
    }

    async fn rotate_endpoint_secret(
        &self,
        org_id: &str,
        id: &str,
        new_secret: &str,
        grace_until: i64,
    ) -> anyhow::Result<Option<Endpoint>> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, secret = $1, \
             previous_secret_expires_at = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(new_secret)
        .bind(grace_until)
        .bind(now_ms())
        .bind(org_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.clear_cache().await;
        self.endpoint(org_id, id).await
    }
}

/// Whether an event of `event_type` with `data` for `org` would reach at least one
/// enabled, subscribed endpoint whose filters match it — decided now, through the read
/// cache, before anything is emitted (the envelope is stamped with the current time, and
/// `data` is serialized only when every subscriber has filters).
pub async fn would_deliver(
    store: &Store,
    org: &Org,
    event_type: EventType,
    data: &impl Serialize,
) -> anyhow::Result<bool> {
    let filters = subscriber_filters(store, &org.id, event_type.as_str()).await?;
    if filters.iter().any(Option::is_none) {
        return Ok(true);
    }
    if filters.is_empty() {
        return Ok(false);
    }
    let data = serde_json::to_value(data)?;
    let envelope = Envelope::new(org, event_type.as_str(), None, &data, now_ms());
    let envelope = serde_json::to_value(&envelope)?;
    Ok(filters.iter().flatten().any(|filter| filters::matches(filter, &envelope)))
}

/// The filters (`None`: none, everything matches) of each enabled endpoint of the org
/// subscribed to `event_type`, through the read cache.
async fn subscriber_filters(
    store: &Store,
    org_id: &str,
    event_type: &str,
) -> anyhow::Result<Arc<[Option<Value>]>> {
    let load = async {
        let rows = sqlx::query(
            "SELECT events, filters FROM webhook_endpoints WHERE org_id = $1 AND enabled = 1",
        )
        .bind(org_id)
        .fetch_all(store.reader())
        .await?;
        let mut subscribers = Vec::new();
        for row in rows {
            let events: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("events")?)?;
            if events.iter().any(|e| e == "*" || e == event_type) {
                let filters: Option<String> = row.try_get("filters")?;
                subscribers.push(filters.map(|f| serde_json::from_str(&f)).transpose()?);
            }
        }
        Ok(subscribers.into())
    };
    let key = (org_id.to_owned(), event_type.to_owned());
    store.cached(&store.attached::<EndpointCache>().subscribers, key, load).await
}

/// The org's enabled endpoints subscribed to `event_type`, read inside `tx`.
pub(super) async fn subscribed(
    tx: &mut Tx,
    org_id: &str,
    event_type: &str,
) -> anyhow::Result<Vec<Endpoint>> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND enabled = 1");
    let rows = sqlx::query(&sql).bind(org_id).fetch_all(tx.conn()).await?;
    let endpoints = rows.iter().map(endpoint_from_row).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(endpoints.into_iter().filter(|e| e.subscribes_to(event_type)).collect())
}

/// The endpoints of `ids` (`None` for one deleted), as claims attach them, through the read
/// cache: a claim batch every few milliseconds would otherwise read the same rows again
/// each time. Every endpoint write of this process clears the cache; another process's
/// change (a second replica) reaches these deliveries within the cache's one-second TTL.
pub(super) async fn by_ids(
    store: &Store,
    ids: &[&str],
) -> anyhow::Result<HashMap<String, Option<Arc<Endpoint>>>> {
    let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    let load = |missing: Vec<String>| async move {
        let ids: Vec<&str> = missing.iter().map(String::as_str).collect();
        let rows = store.read_by_ids("*", "webhook_endpoints", &ids).await?;
        // Deleted ones are remembered as such.
        let mut loaded: HashMap<String, Option<Arc<Endpoint>>> =
            missing.into_iter().map(|id| (id, None)).collect();
        for row in rows {
            let endpoint = endpoint_from_row(&row)?;
            loaded.insert(endpoint.id.clone(), Some(Arc::new(endpoint)));
        }
        Ok(loaded)
    };
    store.cached_many(&store.attached::<EndpointCache>().endpoints, &ids, load).await
}

/// The endpoints of the organisations an operator has disabled: claims pass their
/// deliveries over, which stay due (not spent) until the organisation is enabled again.
/// Cached like the rest (a change by another process applies within the cache's TTL).
pub(super) async fn paused(store: &Store) -> anyhow::Result<Arc<[String]>> {
    let load = async {
        let rows = sqlx::query(
            "SELECT e.id FROM webhook_endpoints e JOIN orgs o ON o.id = e.org_id \
             WHERE o.disabled_at IS NOT NULL",
        )
        .fetch_all(store.reader())
        .await?;
        rows.iter().map(|row| Ok(row.try_get::<String, _>("id")?)).collect()
    };
    store.cached(&store.attached::<EndpointCache>().paused, (), load).await
}

/// What emitting and claiming read of the endpoints, cached per store (see [`cache`]).
struct EndpointCache {
    /// The filters of the enabled endpoints subscribed, by (org id, event type).
    subscribers: Cache<(String, String), Arc<[Option<Value>]>>,
    /// Webhook endpoints by id, as delivery claims attach them.
    endpoints: Cache<String, Option<Arc<Endpoint>>>,
    /// The endpoints of disabled organisations.
    paused: Cache<(), Arc<[String]>>,
}

impl Default for EndpointCache {
    fn default() -> Self {
        Self { subscribers: cache::kind(), endpoints: cache::kind(), paused: cache::kind() }
    }
}

impl Attachment for EndpointCache {
    fn clear_cache(&self) {
        self.subscribers.invalidate_all();
        self.endpoints.invalidate_all();
        self.paused.invalidate_all();
    }
}
