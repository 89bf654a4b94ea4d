//! A real webhook receiver: a small axum server on 127.0.0.1:0 that records every request
//! and answers as the test scripts it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status to answer.
    pub status: u16,
    /// Wait this long before answering.
    pub delay: Duration,
    /// `Retry-After` header value, if any.
    pub retry_after: Option<&'static str>,
    /// The body answered.
    pub body: &'static str,
}

impl Reply {
    /// Answer `status` at once.
    pub fn status(status: u16) -> Self {
        Self { status, delay: Duration::ZERO, retry_after: None, body: "scripted" }
    }

    /// 200 at once.
    pub fn ok() -> Self {
        Self::status(200)
    }
}

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// A header as text ("" if absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

type Script = Box<dyn Fn(usize, &Received) -> Reply + Send + Sync>;

struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<Script>,
    arrived: Notify,
    /// Requests being answered now, and the most seen at once.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver answering 200 to everything.
    pub async fn start() -> Self {
        Self::scripted(|_, _| Reply::ok()).await
    }

    /// Starts a receiver answering the `n`-th request (0-based) with `script(n, request)`.
    pub async fn scripted(
        script: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            script: Mutex::new(Box::new(script)),
            arrived: Notify::new(),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
        });
        let handler_shared = shared.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let shared = handler_shared.clone();
                async move { answer(&shared, headers, body).await }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the receiver serves");
        });
        Self { url, shared, task }
    }

    /// Replaces the script for the requests to come.
    pub fn rescript(&self, script: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static) {
        *self.shared.script.lock().unwrap() = Box::new(script);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The most requests this receiver was answering at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` requests arrived (panics after `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.shared.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {count} requests within {within:?}, got {}",
                received.len()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(shared: &Shared, headers: HeaderMap, body: Bytes) -> Response {
    let now_in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now_in_flight, Ordering::SeqCst);
    let request =
        Received { headers, body: String::from_utf8_lossy(&body).into_owned(), at: Instant::now() };
    let reply = {
        let mut received = shared.received.lock().unwrap();
        let reply = (shared.script.lock().unwrap())(received.len(), &request);
        received.push(request);
        reply
    };
    shared.arrived.notify_waiters();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status = StatusCode::from_u16(reply.status).expect("a valid status");
    match reply.retry_after {
        Some(value) => (status, [("retry-after", value)], reply.body).into_response(),
        None => (status, reply.body).into_response(),
    }
}
