//! How delivery workers take due deliveries from the outbox.
//!
//! - **A lease per row** (both lanes on Postgres, the fast lane on SQLite): a claim moves the
//!   due rows' `next_attempt_at` to the end of a lease (a visibility timeout), so no other
//!   claim sees them meanwhile and a crashed process's work falls due again when it ends.
//! - **One lease for the lane** (the queued lane on SQLite): one process at a time holds the
//!   lane ([`Store::take_lane_lease`], renewed while it runs); its claims are plain reads in
//!   due order ([`Store::read_due_deliveries`]) and the worker remembers what it has in
//!   flight until the results commit. The single SQLite writer then does no work per
//!   claimed delivery: only the result is written. Should the process die, its deliveries
//!   are still pending and due, and the next holder takes them when the lane's lease ends.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::webhooks::endpoint_from_row;
use super::{Store, id_list};
use crate::clock::now_ms;
use crate::store::{ClaimedDelivery, Endpoint};
use crate::urls::Backend;

/// The lane [`Store::take_lane_lease`] leases (the queued lane; the fast lane leases rows).
const QUEUED_LANE: &str = "queued";

/// A due delivery as read or leased, before its event and endpoint are attached.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// `dlv_…`
    pub id: String,
    event_id: String,
    endpoint_id: String,
    attempts: i64,
    retry_step: i64,
    fast: bool,
    expires_at: Option<i64>,
    /// Where it stands in due order (`next_attempt_at`, SQLite `rowid`): the cursor of the
    /// next read. For a leased row, its lease's end and 0.
    pub position: (i64, i64),
    /// Its event's type and body, when read together with it.
    event: Option<(String, Bytes)>,
}

impl DueDelivery {
    fn from_row(row: &AnyRow) -> anyhow::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            endpoint_id: row.try_get("endpoint_id")?,
            attempts: row.try_get("attempts")?,
            retry_step: row.try_get("retry_step")?,
            fast: row.try_get::<i64, _>("fast")? != 0,
            expires_at: row.try_get("expires_at")?,
            position: (row.try_get("next_attempt_at")?, row.try_get("position")?),
            event: None,
        })
    }

    /// A row that also carries its event's `event_type` and `payload`.
    fn with_event_from_row(row: &AnyRow) -> anyhow::Result<Self> {
        Ok(Self { event: Some(event_from_row(row)?), ..Self::from_row(row)? })
    }
}

/// An event's `event_type` and `payload` (the body every delivery of it sends).
fn event_from_row(row: &AnyRow) -> anyhow::Result<(String, Bytes)> {
    let payload: String = row.try_get("payload")?;
    Ok((row.try_get("event_type")?, Bytes::from(payload)))
}

impl Store {
    /// Whether this backend's queued lane is claimed under one lease for the whole lane
    /// (SQLite: one writer, so one process sends at a time anyway) rather than one per row.
    pub fn leases_whole_queued_lane(&self) -> bool {
        self.backend == Backend::Sqlite
    }

    /// Takes the queued lane's lease for `holder` until `until`, or extends it if `holder`
    /// has it already; `false` while another holder's lease runs.
    pub async fn take_lane_lease(&self, holder: &str, until: i64) -> anyhow::Result<bool> {
        let taken = sqlx::query(
            "INSERT INTO outbox_leases (lane, holder, leased_until) VALUES ($1, $2, $3) \
             ON CONFLICT (lane) DO UPDATE SET holder = excluded.holder, \
             leased_until = excluded.leased_until \
             WHERE outbox_leases.holder = excluded.holder OR outbox_leases.leased_until <= $4 \
             RETURNING holder",
        )
        .bind(QUEUED_LANE)
        .bind(holder)
        .bind(until)
        .bind(now_ms())
        .fetch_optional(&self.writer)
        .await?;
        Ok(taken.is_some())
    }

    /// Gives the queued lane's lease up (a clean shutdown), so a successor need not wait for
    /// it to run out.
    pub async fn release_lane_lease(&self, holder: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM outbox_leases WHERE lane = $1 AND holder = $2")
            .bind(QUEUED_LANE)
            .bind(holder)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Reads (on a reader connection, writing nothing) up to `limit` due queued-lane
    /// deliveries after `after` in due order, skipping the `passed_over` endpoints, each
    /// with its event (one read for both). For the holder of the lane's lease, which must
    /// skip the ones it has in flight itself.
    pub async fn read_due_deliveries(
        &self,
        after: (i64, i64),
        limit: i64,
        passed_over: &[String],
    ) -> anyhow::Result<Vec<DueDelivery>> {
        let read = format!(
            "SELECT d.rowid AS position, d.id, d.event_id, d.endpoint_id, d.attempts, \
             d.retry_step, d.fast, d.expires_at, d.next_attempt_at, e.event_type, e.payload \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.status = 'pending' AND d.fast = 0 AND d.next_attempt_at <= $1 \
             AND (d.next_attempt_at, d.rowid) > ($2, $3) AND d.endpoint_id NOT IN ({}) \
             ORDER BY d.next_attempt_at, d.rowid LIMIT $5",
            self.json_ids(4)
        );
        let rows = sqlx::query(&read)
            .bind(now_ms())
            .bind(after.0)
            .bind(after.1)
            .bind(id_list(passed_over.iter().map(String::as_str)))
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(DueDelivery::with_event_from_row).collect()
    }

    /// Claims up to `limit` due deliveries of one lane (fast or queued) for `lease_ms`,
    /// oldest first, skipping the `passed_over` endpoints' deliveries: each claimed
    /// delivery's `next_attempt_at` moves to the end of the lease. The outer
    /// `next_attempt_at` check makes concurrent claimers on Postgres skip rows another
    /// worker took meanwhile. Leased rows leave the due range, so
    /// a claim never wades through the deliveries already in flight.
    ///
    /// The single writer only leases (one statement); the events' bodies and the endpoints
    /// are read beside it by reader connections ([`Store::attach_events`]). Every statement
    /// text is fixed (lists travel as JSON arrays), so each is prepared once per connection.
    pub async fn claim_due_deliveries(
        &self,
        fast: bool,
        limit: i64,
        passed_over: &[String],
        lease_ms: i64,
    ) -> anyhow::Result<Vec<ClaimedDelivery>> {
        let now = now_ms();
        let claim = format!(
            "UPDATE deliveries SET next_attempt_at = $1 WHERE id IN (\
               SELECT id FROM deliveries WHERE status = 'pending' AND fast = $2 \
               AND next_attempt_at <= $3 AND endpoint_id NOT IN ({}) \
               ORDER BY next_attempt_at LIMIT $4\
             ) AND next_attempt_at <= $3 \
             RETURNING id, event_id, endpoint_id, attempts, retry_step, fast, expires_at, \
             next_attempt_at, CAST(0 AS BIGINT) AS position",
            self.json_ids(5)
        );
        let claimed = sqlx::query(&claim)
            .bind(now + lease_ms)
            .bind(i64::from(fast))
            .bind(now)
            .bind(limit)
            .bind(id_list(passed_over.iter().map(String::as_str)))
            .fetch_all(&self.writer)
            .await?;
        let claimed: Vec<DueDelivery> =
            claimed.iter().map(DueDelivery::from_row).collect::<anyhow::Result<_>>()?;
        self.attach_events(claimed, now + lease_ms).await
    }

    /// Reads the events' bodies (unless read with the deliveries) and the endpoints of `due`
    /// deliveries (each once, however many deliveries share it), making them ready to send
    /// until `leased_until`.
    pub async fn attach_events(
        &self,
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
            self.read_by_ids("id, event_type, payload", "events", &event_ids)
                .await?
                .iter()
                .map(|row| Ok((row.try_get("id")?, event_from_row(row)?)))
                .collect::<anyhow::Result<_>>()?
        };
        let endpoints = self.claimed_endpoints(&endpoint_ids).await?;
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
                    fast: delivery.fast,
                    expires_at: delivery.expires_at,
                    leased_until,
                })
            })
            .collect()
    }

    /// The endpoints of `ids` (`None` for one deleted), from the read cache (see
    /// [`super::cache`]): a claim batch every few milliseconds would otherwise read the
    /// same rows again each time. Every endpoint write of this process clears the cache;
    /// another process's change (a second replica) reaches these deliveries within the
    /// cache's one-second TTL.
    async fn claimed_endpoints(
        &self,
        ids: &[&str],
    ) -> anyhow::Result<HashMap<String, Option<Arc<Endpoint>>>> {
        let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
        let load = |missing: Vec<String>| async move {
            let ids: Vec<&str> = missing.iter().map(String::as_str).collect();
            let rows = self.read_by_ids("*", "webhook_endpoints", &ids).await?;
            // Deleted ones are remembered as such.
            let mut loaded: HashMap<String, Option<Arc<Endpoint>>> =
                missing.into_iter().map(|id| (id, None)).collect();
            for row in rows {
                let endpoint = endpoint_from_row(&row)?;
                loaded.insert(endpoint.id.clone(), Some(Arc::new(endpoint)));
            }
            Ok(loaded)
        };
        self.cache.get_many(&self.cache.endpoints, &ids, load).await
    }

    /// `columns` of the rows of `table` whose `id` is among `ids`, read on a reader
    /// connection through one fixed statement text.
    async fn read_by_ids(
        &self,
        columns: &str,
        table: &str,
        ids: &[&str],
    ) -> anyhow::Result<Vec<AnyRow>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE id IN ({})", self.json_ids(1));
        let rows =
            sqlx::query(&sql).bind(id_list(ids.iter().copied())).fetch_all(&self.reader).await?;
        Ok(rows)
    }
}
