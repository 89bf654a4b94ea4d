//! Notices between the processes that share one database: Postgres `LISTEN/NOTIFY`, the
//! bus several replicas coordinate through (SQLite serves one process, where everything
//! happens in-process and the bus carries nothing).
//!
//! A writer [announces](Store::announce) on a [`Topic`] once its change has committed (or
//! [inside its transaction](Tx::announce), delivered at commit); every *other* process
//! that [started the bus](Store::start_bus) receives it through
//! [`Store::subscribe`]. Notifications are transient: while the listening connection is
//! down they are lost, so after every reconnect each topic receives [`Notice::Missed`],
//! and its subscribers catch up from the database (the cache is cleared, live sessions
//! are read again). A subscriber that falls behind sees the same as a lagged receiver.
//!
//! The store itself subscribes to [`Topic::Cache`]: a write of a cached kind on one
//! replica clears the read cache of every replica (see [`super::cache`]).

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};

use super::{Store, Tx};
use crate::urls::Backend;

/// What a notice is about; each topic is one Postgres channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// A write of a cached kind (organisations, templates, plugins, endpoints) committed.
    Cache,
    /// A session's price changed: `"{session id} {sequence}"`.
    Pricing,
    /// Deliveries were written by a process that runs no delivery worker.
    Outbox,
}

impl Topic {
    const ALL: [Topic; 3] = [Topic::Cache, Topic::Pricing, Topic::Outbox];

    /// The Postgres channel.
    fn channel(self) -> &'static str {
        match self {
            Topic::Cache => "winfactor_cache",
            Topic::Pricing => "winfactor_pricing",
            Topic::Outbox => "winfactor_outbox",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Another process's announcement, its payload.
    Message(String),
    /// Announcements may have been lost: catch up from the database.
    Missed,
}

/// A process's end of the bus.
#[derive(Debug)]
pub(super) struct Bus {
    /// This process's id, the first word of every payload it sends: what it announced
    /// itself is not delivered back to it.
    origin: String,
    /// One fan-out per topic, in [`Topic::ALL`] order.
    topics: Vec<broadcast::Sender<Notice>>,
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            origin: crate::ids::new_id("proc"),
            topics: Topic::ALL.iter().map(|_| broadcast::channel(1024).0).collect(),
        }
    }
}

impl Bus {
    /// The statement that announces `payload` on `topic` as this process.
    fn notify(
        &self,
        topic: Topic,
        payload: &str,
    ) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(topic.channel())
            .bind(format!("{} {payload}", self.origin))
    }
}

/// How long to wait before connecting again after the listening connection failed.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

impl Store {
    /// Receives what other processes announce on `topic` (nothing on SQLite).
    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Notice> {
        self.bus.topics[topic.index()].subscribe()
    }

    /// Tells every other process on this database about a committed change (Postgres; a
    /// no-op on SQLite).
    pub async fn announce(&self, topic: Topic, payload: &str) -> anyhow::Result<()> {
        if self.backend == Backend::Postgres {
            self.bus.notify(topic, payload).execute(&self.writer).await?;
        }
        Ok(())
    }

    /// Listens on every topic until `stopping` flips, reconnecting after failures; `None`
    /// on SQLite, which has no other process to hear.
    pub fn start_bus(
        &self,
        mut stopping: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend != Backend::Postgres {
            return None;
        }
        let store = self.clone();
        Some(tokio::spawn(async move {
            let mut first = true;
            loop {
                tokio::select! {
                    () = store.listen(first) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
                first = false;
                tokio::select! {
                    () = tokio::time::sleep(RECONNECT_AFTER) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
            }
        }))
    }

    /// One listening connection's life: connects, announces [`Notice::Missed`] once it
    /// listens (unless this is the first connection), then dispatches until the connection
    /// fails.
    async fn listen(&self, first: bool) {
        let mut listener = match PgListener::connect(self.url.expose()).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "connecting the notification listener failed");
                return;
            }
        };
        let channels = Topic::ALL.map(Topic::channel);
        if let Err(err) = listener.listen_all(channels).await {
            tracing::warn!(error = %err, "listening for notifications failed");
            return;
        }
        if !first {
            self.dispatch_missed();
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    self.dispatch(notification.channel(), notification.payload());
                }
                // The connection was lost: what is sent until the next one listens is
                // gone, so the next one starts with a catch-up.
                Ok(None) => {
                    tracing::warn!("the notification listener lost its connection");
                    return;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the notification listener failed");
                    return;
                }
            }
        }
    }

    fn dispatch(&self, channel: &str, payload: &str) {
        let Some(topic) = Topic::ALL.into_iter().find(|topic| topic.channel() == channel) else {
            return;
        };
        let (origin, message) = payload.split_once(' ').unwrap_or((payload, ""));
        if origin == self.bus.origin {
            return;
        }
        if topic == Topic::Cache {
            self.clear_local_cache();
        }
        let _ = self.bus.topics[topic.index()].send(Notice::Message(message.to_owned()));
    }

    fn dispatch_missed(&self) {
        self.clear_local_cache();
        for sender in &self.bus.topics {
            let _ = sender.send(Notice::Missed);
        }
    }
}

impl Tx {
    /// [`Store::announce`] as part of this transaction: sent when it commits, never if it
    /// rolls back.
    pub async fn announce(&mut self, topic: Topic, payload: &str) -> anyhow::Result<()> {
        if self.backend == Backend::Postgres {
            let bus = self.bus.clone();
            bus.notify(topic, payload).execute(self.conn()).await?;
        }
        Ok(())
    }
}
