//! The live loop across replicas. A customer's stream is held by one process while the
//! change, the organisation's callback, the plugin run or the fallback timer may happen on
//! another: every stored change of a session's price is announced on the store's bus
//! ([`Topic::Pricing`], `"{session id} {sequence}"`, after the write committed), and each
//! process that follows that session reads the session as stored and pushes it to its
//! streams (the sequence number keeps every stream in order and free of repeats), frees the
//! in-flight slot the answer settled and wakes whoever waits for an answer; a pending price
//! it sees gets its deadline watched there too, so the fallback comes even if the replica
//! that made the change dies. After a lost notification every followed session is read
//! again.
//!
//! What must hold whichever replica a request lands on lives in the database: the price
//! on screen and its sequence (conditional writes), answers by configHash, and the claim of
//! each configuration's request ([`Tx::claim_live_request`]).

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::Instant;

use super::live::{Channel, Inner, PricingEvent, since};
use super::{Pricer, Session, budget};
use crate::catalog::PricingStatus;
use crate::clock::now_ms;
use crate::store::{Notice, Topic, Tx};

impl Inner {
    /// Tells the other processes that `session_id`'s price changed (`seq` 0: an answer was
    /// stored without changing what is on screen).
    pub(super) async fn announce(&self, session_id: &str, seq: i64) {
        let payload = format!("{session_id} {seq}");
        if let Err(err) = self.store.announce(Topic::Pricing, &payload).await {
            tracing::warn!(error = %err, session = %session_id, "announcing a price change failed");
        }
    }

    /// Brings this process's view of a followed session up to the stored one; a pending
    /// price gets its deadline watched here too (see [`Inner::watch`]).
    async fn catch_up(self: &Arc<Self>, session_id: &str, channel: &Channel) -> anyhow::Result<()> {
        let Some(session) = self.store.session(session_id).await? else { return Ok(()) };
        let _ = channel
            .events
            .send(PricingEvent { seq: session.pricing_seq, pricing: session.pricing.clone() });
        settle(&session, channel);
        channel.answered.notify_waiters();
        if session.pricing.status == PricingStatus::Pending
            && session.submission_id.is_none()
            && let Some(org) = self.store.org(&session.org_id).await?
        {
            // A pending price's age is its change's: `updated_at` (see `live::since`).
            let left = budget(&org).saturating_sub(since(session.updated_at));
            self.watch(session_id, &session.config_hash, Instant::now() + left);
        }
        Ok(())
    }

    /// Every session this process follows (a stream, a session task or a waiter).
    fn all_followed(&self) -> Vec<(String, Arc<Channel>)> {
        let sessions = self.sessions.lock().expect("sessions map");
        sessions.iter().map(|(id, channel)| (id.clone(), channel.clone())).collect()
    }
}

/// Once the configuration on screen is no longer pending, its request is no longer out.
fn settle(session: &Session, channel: &Channel) {
    if session.pricing.status == PricingStatus::Pending {
        return;
    }
    let mut state = channel.state.lock().expect("session state");
    if state.in_flight.remove(&session.config_hash).is_some() {
        channel.kick.notify_one();
    }
}

impl Pricer {
    /// Follows the other processes' price changes until `stopping` flips (nothing arrives
    /// on SQLite, which serves one process).
    pub fn follow_replicas(
        &self,
        mut stopping: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let inner = self.inner.clone();
        let mut notices = inner.store.subscribe(Topic::Pricing);
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    notice = notices.recv() => notice,
                    _ = stopping.wait_for(|stop| *stop) => return,
                };
                let sessions = match notice {
                    Ok(Notice::Message(payload)) => {
                        let id = payload.split_once(' ').map_or(payload.as_str(), |(id, _)| id);
                        let channel = inner.followed(id);
                        channel.map(|channel| vec![(id.to_owned(), channel)]).unwrap_or_default()
                    }
                    Ok(Notice::Missed) | Err(RecvError::Lagged(_)) => inner.all_followed(),
                    Err(RecvError::Closed) => return,
                };
                for (id, channel) in sessions {
                    if let Err(err) = inner.catch_up(&id, &channel).await {
                        tracing::warn!(error = %err, session = %id, "catching up with another replica failed");
                    }
                }
            }
        })
    }
}

impl Tx {
    /// Claims the live request for (`session_id`, `config_hash`) until `until` (epoch ms,
    /// its pending's deadline): false when a request for it is already out from any
    /// process and its deadline has not passed.
    pub(super) async fn claim_live_request(
        &mut self,
        session_id: &str,
        config_hash: &str,
        until: i64,
    ) -> anyhow::Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO live_requests (session_id, config_hash, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (session_id, config_hash) DO UPDATE SET until_ms = excluded.until_ms \
             WHERE live_requests.until_ms <= $4 RETURNING session_id",
        )
        .bind(session_id)
        .bind(config_hash)
        .bind(until)
        .bind(now_ms())
        .fetch_optional(self.conn())
        .await?;
        Ok(claimed.is_some())
    }
}
