//! Making due deliveries ready to send: their events' bodies and their endpoints, read
//! beside the claim on reader connections, each once however many deliveries share it.

use std::collections::HashMap;

use anyhow::Context;
use bytes::Bytes;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::claim::ClaimedDelivery;
use super::endpoints;
use crate::store::Store;

/// A due delivery as read or leased, before its event and endpoint are attached.
#[derive(Debug, Clone)]
pub(super) struct DueDelivery {
    /// `dlv_…`
    pub id: String,
    event_id: String,
    endpoint_id: String,
    attempts: i64,
    retry_step: i64,
    expires_at: Option<i64>,
    /// Its event's `created_at` (a delivery is created with its event).
    created_at: i64,
    /// Where it stands in due order (`next_attempt_at`, SQLite `rowid`): the cursor of the
    /// next read. For a leased row, its lease's end and 0.
    pub position: (i64, i64),
    /// Its event's type and body, when read together with it.
    event: Option<(String, Bytes)>,
}

impl DueDelivery {
    pub(super) fn from_row(row: &AnyRow) -> anyhow::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            endpoint_id: row.try_get("endpoint_id")?,
            attempts: row.try_get("attempts")?,
            retry_step: row.try_get("retry_step")?,
            expires_at: row.try_get("expires_at")?,
            created_at: row.try_get("created_at")?,
            position: (row.try_get("next_attempt_at")?, row.try_get("position")?),
            event: None,
        })
    }

    /// A row that also carries its event's `event_type` and `payload`.
    pub(super) fn with_event_from_row(row: &AnyRow) -> anyhow::Result<Self> {
        Ok(Self { event: Some(event_from_row(row)?), ..Self::from_row(row)? })
    }
}

/// An event's `event_type` and `payload` (the body every delivery of it sends).
fn event_from_row(row: &AnyRow) -> anyhow::Result<(String, Bytes)> {
    let payload: String = row.try_get("payload")?;
    Ok((row.try_get("event_type")?, Bytes::from(payload)))
}

/// Reads the events' bodies (unless read with the deliveries) and the endpoints of `due`
/// deliveries (each once, however many deliveries share it), making them ready to send
/// until `leased_until`.
pub(super) async fn attach_events(
    store: &Store,
    due: Vec<DueDelivery>,
    leased_until: i64,
) -> anyhow::Result<Vec<ClaimedDelivery>> {
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let mut event_ids: Vec<&str> =
        due.iter().filter(|d| d.event.is_none()).map(|d| d.event_id.as_str()).collect();
    let mut endpoint_ids: Vec<&str> = due.iter().map(|d| d.endpoint_id.as_str()).collect();
    for ids in [&mut event_ids, &mut endpoint_ids] {
        ids.sort_unstable();
        ids.dedup();
    }
    let events: HashMap<String, (String, Bytes)> = if event_ids.is_empty() {
        HashMap::new()
    } else {
        store
            .read_by_ids("id, event_type, payload", "events", &event_ids)
            .await?
            .iter()
            .map(|row| Ok((row.try_get("id")?, event_from_row(row)?)))
            .collect::<anyhow::Result<_>>()?
    };
    let endpoints = endpoints::by_ids(store, &endpoint_ids).await?;
    due.into_iter()
        .map(|delivery| {
            let (event_type, payload) = match delivery.event {
                Some(event) => event,
                None => events
                    .get(&delivery.event_id)
                    .cloned()
                    .context("a claimed delivery's event is gone")?,
            };
            Ok(ClaimedDelivery {
                endpoint: endpoints.get(&delivery.endpoint_id).cloned().flatten(),
                id: delivery.id,
                event_id: delivery.event_id,
                event_type,
                payload,
                attempts: delivery.attempts,
                retry_step: delivery.retry_step,
                expires_at: delivery.expires_at,
                committed_at: delivery.created_at,
                leased_until,
            })
        })
        .collect()
}
