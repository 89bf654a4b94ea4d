//! The delivery log as integrators read it (events with deliveries and attempts, newest
//! first) and the recovery tools: redelivery, endpoint recovery. [`DeliveryLog`] on the
//! store, for the API.

use std::collections::HashMap;
use std::future::Future;

use sqlx::Row;

use super::rows::{
    AttemptRow, DELIVERY_COLUMNS, DeliveryRow, EventFilter, EventRow, delivery_from_row,
    event_from_row,
};
use super::signal::{wake_others_on_commit, wake_queued_on_commit};
use crate::clock::now_ms;
use crate::store::{Store, Tx, placeholders};

/// The delivery log of an organisation, on the [`Store`]: what the API shows and recovers.
pub trait DeliveryLog {
    /// A page of the org's events, newest first, with their deliveries.
    fn list_events(
        &self,
        org_id: &str,
        filter: &EventFilter,
    ) -> impl Future<Output = anyhow::Result<Vec<(EventRow, Vec<DeliveryRow>)>>> + Send;

    /// One event of the org with its deliveries.
    fn event(
        &self,
        org_id: &str,
        id: &str,
    ) -> impl Future<Output = anyhow::Result<Option<(EventRow, Vec<DeliveryRow>)>>> + Send;

    /// Every attempt of the event's deliveries, in order: the earlier ones from
    /// `delivery_attempts`, each delivery's latest from its own row.
    fn attempts_of_event(
        &self,
        event_id: &str,
    ) -> impl Future<Output = anyhow::Result<Vec<AttemptRow>>> + Send;

    /// Re-queues the event's finished deliveries (optionally to one endpoint) with a fresh
    /// retry schedule; returns how many.
    fn redeliver_event(
        &self,
        org_id: &str,
        event_id: &str,
        endpoint_id: Option<&str>,
    ) -> impl Future<Output = anyhow::Result<u64>> + Send;

    /// Re-queues an endpoint's failed deliveries created at or after `since`.
    fn recover_endpoint(
        &self,
        org_id: &str,
        endpoint_id: &str,
        since: i64,
    ) -> impl Future<Output = anyhow::Result<u64>> + Send;
}

impl DeliveryLog for Store {
    async fn list_events(
        &self,
        org_id: &str,
        filter: &EventFilter,
    ) -> anyhow::Result<Vec<(EventRow, Vec<DeliveryRow>)>> {
        let mut conditions = vec!["e.org_id = $1".to_owned()];
        let mut binds: Vec<Bind> = vec![Bind::Text(org_id.to_owned())];
        let mut bind = |value: Bind| {
            binds.push(value);
            format!("${}", binds.len())
        };
        if let Some(event_type) = &filter.event_type {
            conditions.push(format!("e.event_type = {}", bind(Bind::Text(event_type.clone()))));
        }
        if let Some(after) = filter.created_after {
            conditions.push(format!("e.created_at > {}", bind(Bind::Int(after))));
        }
        if let Some(before) = filter.created_before {
            conditions.push(format!("e.created_at < {}", bind(Bind::Int(before))));
        }
        if let Some((at, id)) = &filter.before {
            let at_a = bind(Bind::Int(*at));
            let at_b = bind(Bind::Int(*at));
            let id = bind(Bind::Text(id.clone()));
            conditions.push(format!(
                "(e.created_at < {at_a} OR (e.created_at = {at_b} AND e.id < {id}))"
            ));
        }
        if filter.status.is_some() || filter.endpoint_id.is_some() {
            let mut inner = vec!["d.event_id = e.id".to_owned()];
            if let Some(status) = filter.status {
                inner.push(format!("d.status = {}", bind(Bind::Text(status.as_str().into()))));
            }
            if let Some(endpoint) = &filter.endpoint_id {
                inner.push(format!("d.endpoint_id = {}", bind(Bind::Text(endpoint.clone()))));
            }
            conditions
                .push(format!("EXISTS (SELECT 1 FROM deliveries d WHERE {})", inner.join(" AND ")));
        }
        let limit = bind(Bind::Int(filter.limit));
        let sql = format!(
            "SELECT e.* FROM events e WHERE {} ORDER BY e.created_at DESC, e.id DESC LIMIT {limit}",
            conditions.join(" AND ")
        );
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = match value {
                Bind::Text(text) => query.bind(text),
                Bind::Int(int) => query.bind(int),
            };
        }
        let events = query.fetch_all(self.reader()).await?;
        let events: Vec<EventRow> =
            events.iter().map(event_from_row).collect::<anyhow::Result<_>>()?;
        let mut deliveries = deliveries_of(self, events.iter().map(|e| e.id.as_str())).await?;
        Ok(events
            .into_iter()
            .map(|event| {
                let own = deliveries.remove(&event.id).unwrap_or_default();
                (event, own)
            })
            .collect())
    }

    async fn event(
        &self,
        org_id: &str,
        id: &str,
    ) -> anyhow::Result<Option<(EventRow, Vec<DeliveryRow>)>> {
        let row = sqlx::query("SELECT * FROM events WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        let Some(event) = row.as_ref().map(event_from_row).transpose()? else {
            return Ok(None);
        };
        let deliveries =
            deliveries_of(self, [event.id.as_str()]).await?.remove(&event.id).unwrap_or_default();
        Ok(Some((event, deliveries)))
    }

    async fn attempts_of_event(&self, event_id: &str) -> anyhow::Result<Vec<AttemptRow>> {
        let rows = sqlx::query(
            "SELECT a.delivery_id, a.attempt, a.started_at, a.duration_ms, a.status_code, \
             a.error, a.response_snippet \
             FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE d.event_id = $1 \
             UNION ALL \
             SELECT id, attempts, last_started_at, last_duration_ms, last_status, last_error, \
             last_snippet FROM deliveries WHERE event_id = $1 AND last_started_at IS NOT NULL \
             ORDER BY started_at, attempt",
        )
        .bind(event_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AttemptRow {
                    delivery_id: row.try_get("delivery_id")?,
                    attempt: row.try_get("attempt")?,
                    started_at: row.try_get("started_at")?,
                    duration_ms: row.try_get("duration_ms")?,
                    status_code: row.try_get("status_code")?,
                    error: row.try_get("error")?,
                    response_snippet: row.try_get("response_snippet")?,
                })
            })
            .collect()
    }

    async fn redeliver_event(
        &self,
        org_id: &str,
        event_id: &str,
        endpoint_id: Option<&str>,
    ) -> anyhow::Result<u64> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET status = 'pending', retry_step = 0, next_attempt_at = $1, \
             expires_at = NULL, updated_at = $1 \
             WHERE org_id = $2 AND event_id = $3 AND status <> 'pending' \
             AND ($4 = '' OR endpoint_id = $4) \
             AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE org_id = $2)",
        )
        .bind(now)
        .bind(org_id)
        .bind(event_id)
        .bind(endpoint_id.unwrap_or(""))
        .execute(tx.conn())
        .await?;
        // A redelivered fast-path event goes through the queued lane: its budget is over.
        sqlx::query("UPDATE deliveries SET fast = 0 WHERE event_id = $1 AND status = 'pending'")
            .bind(event_id)
            .execute(tx.conn())
            .await?;
        commit_requeued(tx, done.rows_affected()).await
    }

    async fn recover_endpoint(
        &self,
        org_id: &str,
        endpoint_id: &str,
        since: i64,
    ) -> anyhow::Result<u64> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET status = 'pending', fast = 0, retry_step = 0, next_attempt_at = $1, \
             expires_at = NULL, updated_at = $1 \
             WHERE org_id = $2 AND endpoint_id = $3 AND status = 'failed' AND created_at >= $4",
        )
        .bind(now)
        .bind(org_id)
        .bind(endpoint_id)
        .bind(since)
        .execute(tx.conn())
        .await?;
        commit_requeued(tx, done.rows_affected()).await
    }
}

/// Commits `requeued` deliveries put back in the queued lane, waking it if there are any.
async fn commit_requeued(mut tx: Tx, requeued: u64) -> anyhow::Result<u64> {
    if requeued > 0 {
        wake_queued_on_commit(&mut tx);
        wake_others_on_commit(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(requeued)
}

/// The deliveries of `event_ids`, by event, oldest first.
async fn deliveries_of<'a>(
    store: &Store,
    event_ids: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<HashMap<String, Vec<DeliveryRow>>> {
    let ids: Vec<&str> = event_ids.into_iter().collect();
    let mut grouped = HashMap::new();
    if ids.is_empty() {
        return Ok(grouped);
    }
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id IN ({}) ORDER BY created_at, id",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    for row in query.fetch_all(store.reader()).await? {
        let delivery = delivery_from_row(&row)?;
        grouped.entry(delivery.event_id.clone()).or_insert_with(Vec::new).push(delivery);
    }
    Ok(grouped)
}

enum Bind {
    Text(String),
    Int(i64),
}
