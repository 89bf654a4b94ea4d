//! [`emit`]: the one way an event enters the transactional outbox, inside the caller's
//! transaction: the event row (the exact body every delivery sends) and one delivery per
//! subscribed endpoint, due now.

use std::sync::Arc;

use bytes::Bytes;

use super::claim::ClaimedDelivery;
use super::endpoints::{self, Endpoint};
use super::events::{Envelope, NewEvent};
use super::filters;
use super::rows::EventRow;
use super::signal::{Signal, wake_others_on_commit, wake_queued_on_commit};
use crate::clock::now_ms;
use crate::ids::new_sortable_id;
use crate::orgs::Org;
use crate::store::Tx;

/// Writes the event and one delivery per enabled, subscribed endpoint whose filters match,
/// inside `tx`: it commits (and is delivered) exactly when the change that caused it does.
/// Returns the event id.
pub async fn emit(tx: &mut Tx, org: &Org, event: NewEvent) -> anyhow::Result<String> {
    let created_at = now_ms();
    let name = event.event_type.as_str();
    let envelope =
        Envelope::new(org, name, event.customer_locale.as_deref(), &event.data, created_at);
    let payload = serde_json::to_string(&envelope)?;
    let body = serde_json::to_value(&envelope)?;
    let endpoints = endpoints::subscribed(tx, &org.id, event.event_type.as_str()).await?;
    let targets: Vec<_> = endpoints
        .into_iter()
        .filter(|endpoint| endpoint.filters.as_ref().is_none_or(|f| filters::matches(f, &body)))
        .collect();
    let row = EventRow {
        id: new_sortable_id("evt"),
        org_id: org.id.clone(),
        event_type: event.event_type.as_str().to_owned(),
        payload,
        created_at,
    };
    insert(tx, &row, &targets, event.event_type.is_fast(), event.expires_at).await?;
    Ok(row.id)
}

/// Writes an event and one delivery (due now) per endpoint in `tx`. Fast-path deliveries
/// are leased right here and handed to this process's fast lane once `tx` commits; queued
/// ones wake the queued lane then.
async fn insert(
    tx: &mut Tx,
    event: &EventRow,
    endpoints: &[Endpoint],
    fast: bool,
    expires_at: Option<i64>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO events (id, org_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&event.id)
    .bind(&event.org_id)
    .bind(&event.event_type)
    .bind(&event.payload)
    .bind(event.created_at)
    .execute(tx.conn())
    .await?;
    let signal = tx.attached::<Signal>();
    let lease = if fast { signal.fast_lease() } else { None };
    let payload = Bytes::from(event.payload.clone());
    let mut handed = Vec::new();
    for endpoint in endpoints {
        let id = new_sortable_id("dlv");
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, org_id, endpoint_id, url, status, fast, \
             attempts, retry_step, next_attempt_at, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, 0, 0, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(&event.id)
        .bind(&event.org_id)
        .bind(&endpoint.id)
        .bind(&endpoint.url)
        .bind(i64::from(fast))
        // Handed to this process's fast lane: due only if it never reports.
        .bind(event.created_at + lease.unwrap_or(0))
        .bind(expires_at)
        .bind(event.created_at)
        .execute(tx.conn())
        .await?;
        if let Some(lease) = lease {
            handed.push(ClaimedDelivery {
                id,
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                payload: payload.clone(),
                attempts: 0,
                retry_step: 0,
                expires_at,
                committed_at: event.created_at,
                leased_until: event.created_at + lease,
                endpoint: Some(Arc::new(endpoint.clone())),
            });
        }
    }
    if endpoints.is_empty() {
        return Ok(());
    }
    wake_others_on_commit(tx).await?;
    if !fast {
        wake_queued_on_commit(tx);
    } else if lease.is_some() {
        tx.after_commit(Box::new(move || signal.hand_off(handed)));
    } else {
        // Nobody to hand them to: left unleased for a polling worker.
        signal.fast.notify_one();
    }
    Ok(())
}
