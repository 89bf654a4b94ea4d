//! A Server-Sent Events client for tests: a real streaming HTTP request, parsed into events.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

/// One event of the stream.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `event:` field.
    pub event: String,
    /// `id:` field.
    pub id: String,
    /// `data:` parsed as JSON.
    pub data: Value,
}

/// A connected stream.
pub struct SseClient {
    /// The replica that serves the stream, behind [`crate::Nginx`] (else empty).
    pub upstream: String,
    events: mpsc::UnboundedReceiver<SseEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl SseClient {
    /// Connects to `url`, optionally resuming after `last_event_id`.
    pub async fn connect(url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new().get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let mut response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let upstream = crate::nginx::upstream_of(&response);
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let (mut event, mut id, mut data) =
                        (String::new(), String::new(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    if data.is_empty() {
                        continue; // heartbeat comment
                    }
                    let data = serde_json::from_str(&data).expect("JSON data");
                    if tx.send(SseEvent { event, id, data }).is_err() {
                        return;
                    }
                }
            }
        });
        Self { upstream, events, task }
    }

    /// The next event (panics after `within`).
    pub async fn next(&mut self, within: Duration) -> SseEvent {
        tokio::time::timeout(within, self.events.recv())
            .await
            .expect("an SSE event in time")
            .expect("the stream is open")
    }

    /// The next event, or `None` once the stream has ended (for loads that read many
    /// streams without a deadline per event).
    pub async fn recv(&mut self) -> Option<SseEvent> {
        self.events.recv().await
    }

    /// Skips events until one satisfies `wanted` (panics after `within`).
    pub async fn until(
        &mut self,
        within: Duration,
        wanted: impl Fn(&SseEvent) -> bool,
    ) -> SseEvent {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = self.next(left).await;
            if wanted(&event) {
                return event;
            }
        }
    }

    /// Events that arrived so far, without waiting.
    pub fn drain(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            out.push(event);
        }
        out
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}
