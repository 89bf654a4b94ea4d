//! What a client can hold open: idle, half-sent and slow connections are closed after their
//! timeouts, connections over the per-client or the total cap are closed at once, price
//! streams are capped per session and in total — and `/healthz` keeps answering.
//!
//! Hostile clients are raw TCP sockets bound to other loopback addresses (127.0.0.2, …), so
//! a per-client cap applies to them and not to the checks made from 127.0.0.1. Timing
//! assertions go one way only: a connection must not close before its timeout, and must have
//! closed within a generous bound after it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use winfactor::server::connections::raise_descriptor_limit;
use winfactor_tests::sse::SseClient;
use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(
    idle_and_half_sent_connections_close_while_health_answers,
    keep_alive_and_slow_requests_time_out_but_streams_do_not,
    connections_over_the_per_client_cap_are_closed_at_once,
    connections_over_the_total_cap_are_closed_at_once,
    price_streams_are_capped_per_session_and_in_total,
);

/// How many hostile sockets the big test holds open.
const HOSTILE: usize = 2000;
/// The most any close or answer may take beyond what it waits for (a loaded machine).
const SLACK: Duration = Duration::from_secs(30);
/// A request head that never ends.
const HALF_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: hostile\r\nX-Slow: ";

/// The loopback address `127.0.0.n`.
fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

fn server_addr(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().expect("the server's address")
}

/// A TCP connection to the app from `from`.
async fn connect_from(from: IpAddr, app: &TestApp) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(SocketAddr::new(from, 0)).expect("a loopback source address");
    socket.connect(server_addr(app)).await.expect("the connection opens")
}

/// Reads until the server closes `stream` (end of file or reset) and returns what it sent;
/// panics if that takes longer than `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    let read = async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.expect("the server closes the connection in time");
    String::from_utf8_lossy(&received).into_owned()
}

/// Sends `GET /healthz` on `stream` and returns the response, or `None` if the server
/// closed the connection instead of answering.
async fn health_on(stream: &mut TcpStream) -> Option<String> {
    let request = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    stream.write_all(request).await.ok()?;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&received);
            if text.contains("\r\n\r\n") && text.ends_with("ok") {
                return Some(text.into_owned());
            }
        }
    };
    tokio::time::timeout(SLACK, read).await.expect("an answer or a close in time")
}

/// `GET /healthz` from 127.0.0.1 on a fresh connection.
async fn health(app: &TestApp) {
    let client = reqwest::Client::new();
    let response = client.get(app.url("/healthz")).send().await.expect("/healthz answers");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Asserts that a connection the server closed `lived` after it was opened did not close
/// before its `timeout`, nor long after it.
fn assert_closed_by_timeout(lived: Duration, timeout: Duration) {
    assert!(lived >= timeout, "closed after {lived:?}, before the {timeout:?} timeout");
    assert!(lived < timeout + SLACK, "closed only after {lived:?} ({timeout:?} timeout)");
}

/// 2 000 sockets (fewer if the open-file limit is low: each costs this process two
/// descriptors, the client's end and the server's), half idle, half in the middle of a
/// request head: `/healthz` answers while all are open, and every one is closed after the
/// header-read timeout and not before.
async fn idle_and_half_sent_connections_close_while_health_answers(backend: Backend) {
    let descriptors = raise_descriptor_limit();
    let count = HOSTILE.min(usize::try_from(descriptors.saturating_sub(1024) / 2).unwrap());
    if count < HOSTILE {
        eprintln!("open-file limit {descriptors}: holding {count} sockets, not {HOSTILE}");
    }
    let timeout = Duration::from_secs(5);
    let app = TestApp::start_with(backend, |config| {
        config.connections.header_read_timeout = timeout;
        config.connections.max_connections_per_ip = HOSTILE * 2;
    })
    .await;
    // Connected one after another (a burst would overflow the listen backlog and be retried
    // by the kernel a second later), then each waits on its own task for the server's close.
    let mut hostile = JoinSet::new();
    for i in 0..count {
        let opened = Instant::now();
        let mut stream = connect_from(loopback(2), &app).await;
        if i % 2 == 1 {
            stream.write_all(HALF_HEAD).await.unwrap();
        }
        hostile.spawn(async move {
            let sent = read_until_closed(&mut stream, timeout + SLACK).await;
            (opened.elapsed(), sent)
        });
    }
    for _ in 0..3 {
        health(&app).await;
    }
    assert!(
        hostile.try_join_next().is_none(),
        "a hostile connection closed before /healthz had answered three times"
    );
    while let Some(closed) = hostile.join_next().await {
        let (lived, sent) = closed.expect("the reader task");
        assert_closed_by_timeout(lived, timeout);
        assert_eq!(sent, "", "nothing is answered to an unfinished head");
    }
    health(&app).await;
    app.stop().await;
}

/// A kept-alive connection left idle, a head that never ends and a body that never ends
/// are each closed after their timeout (the body with `408 request_timeout`), a head over
/// 64 KiB at once with 431; a price stream outlives both timeouts.
async fn keep_alive_and_slow_requests_time_out_but_streams_do_not(backend: Backend) {
    let header_timeout = Duration::from_secs(1);
    let body_timeout = Duration::from_secs(2);
    let app = TestApp::start_with(backend, |config| {
        config.connections.header_read_timeout = header_timeout;
        config.connections.request_body_timeout = body_timeout;
    })
    .await;
    let session = app.open_session("2-panel-lift-slide").await;
    let mut stream = SseClient::connect(session["streamUrl"].as_str().unwrap(), None).await;
    stream.next(SLACK).await;

    let idle = async {
        let mut conn = connect_from(loopback(2), &app).await;
        let asked = Instant::now();
        let answer = health_on(&mut conn).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200") && !answer.contains("connection: close"));
        assert_eq!(read_until_closed(&mut conn, header_timeout + SLACK).await, "");
        assert_closed_by_timeout(asked.elapsed(), header_timeout);
    };
    let half_head = async {
        let opened = Instant::now();
        let mut conn = connect_from(loopback(2), &app).await;
        conn.write_all(HALF_HEAD).await.unwrap();
        assert_eq!(read_until_closed(&mut conn, header_timeout + SLACK).await, "");
        assert_closed_by_timeout(opened.elapsed(), header_timeout);
    };
    let slow_body = async {
        let mut conn = connect_from(loopback(2), &app).await;
        let sent = Instant::now();
        let head = "POST /public/v1/orgs/window-works/leads HTTP/1.1\r\nHost: test\r\n\
                    Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": ";
        conn.write_all(head.as_bytes()).await.unwrap();
        let answer = read_until_closed(&mut conn, body_timeout + SLACK).await;
        assert_closed_by_timeout(sent.elapsed(), body_timeout);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    };
    let oversized_head = async {
        let mut conn = connect_from(loopback(2), &app).await;
        let head =
            format!("GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000));
        // The server stops reading at the limit: the write may fail, and the close may
        // come as a reset that discards the 431 before it is read. Never a 200.
        let _ = conn.write_all(head.as_bytes()).await;
        let answer = read_until_closed(&mut conn, SLACK).await;
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
    };
    tokio::join!(idle, half_head, slow_body, oversized_head);

    // The stream has been idle for longer than both timeouts and still carries the price.
    let id = session["id"].as_str().unwrap();
    let mut configuration = session["configuration"].clone();
    configuration["width"] = json!(2500);
    let path = format!("/public/v1/configuration-sessions/{id}/configuration");
    let change = json!({ "configuration": configuration });
    let (status, pricing) = app.call(reqwest::Method::PUT, &path, None, Some(&change)).await;
    assert_eq!(status, StatusCode::OK, "{pricing}");
    let event =
        stream.until(SLACK, |event| event.data["configHash"] == pricing["configHash"]).await;
    assert_eq!(event.event, "pricing");
    app.stop().await;
}

/// Over the per-client cap a connection is closed at once, unread; other clients are served;
/// a closed connection's place is free again.
async fn connections_over_the_per_client_cap_are_closed_at_once(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        // Long enough that only the cap can explain a close.
        config.connections.header_read_timeout = Duration::from_secs(600);
        config.connections.max_connections_per_ip = 4;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = connect_from(loopback(2), &app).await;
        assert!(health_on(&mut conn).await.is_some(), "served under the cap");
        held.push(conn);
    }
    let mut over = connect_from(loopback(2), &app).await;
    assert_eq!(read_until_closed(&mut over, SLACK).await, "", "closed unanswered");
    assert!(health_on(&mut over).await.is_none());

    let mut other = connect_from(loopback(3), &app).await;
    assert!(health_on(&mut other).await.is_some(), "another client is served");
    health(&app).await;

    drop(held.pop());
    served_eventually(&app, loopback(2)).await;
    app.stop().await;
}

/// Over the total cap a connection is closed at once, whoever it comes from; a closed
/// connection's place is free again.
async fn connections_over_the_total_cap_are_closed_at_once(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.connections.header_read_timeout = Duration::from_secs(600);
        config.connections.max_connections = Some(6);
    })
    .await;
    let mut held = Vec::new();
    for n in [2, 2, 2, 3, 3, 3] {
        let mut conn = connect_from(loopback(n), &app).await;
        assert!(health_on(&mut conn).await.is_some(), "served under the cap");
        held.push(conn);
    }
    let mut over = connect_from(loopback(4), &app).await;
    assert_eq!(read_until_closed(&mut over, SLACK).await, "", "closed unanswered");

    drop(held.pop());
    served_eventually(&app, loopback(4)).await;
    app.stop().await;
}

/// A new connection from `from` is served once the server has noticed a closed one (it
/// notices asynchronously; panics if that takes longer than [`SLACK`]).
async fn served_eventually(app: &TestApp, from: IpAddr) -> TcpStream {
    let deadline = Instant::now() + SLACK;
    loop {
        let mut conn = connect_from(from, app).await;
        if health_on(&mut conn).await.is_some() {
            return conn;
        }
        assert!(Instant::now() < deadline, "a freed connection slot was never reused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Per session at most `max_sse_streams_per_session` streams (429 `too_many_streams` above
/// it), on the server at most `max_sse_streams` (503 `stream_capacity_reached`); a closed
/// stream's place is free again.
async fn price_streams_are_capped_per_session_and_in_total(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.connections.max_sse_streams = Some(3);
        config.connections.max_sse_streams_per_session = 2;
    })
    .await;
    let url = |session: &Value| session["streamUrl"].as_str().unwrap().to_owned();
    let (a, b, c) = (
        app.open_session("tilt-turn-window").await,
        app.open_session("tilt-turn-window").await,
        app.open_session("tilt-turn-window").await,
    );
    let a1 = SseClient::connect(&url(&a), None).await;
    let _a2 = SseClient::connect(&url(&a), None).await;
    assert_refused(&url(&a), StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;
    let _b1 = SseClient::connect(&url(&b), None).await;
    assert_refused(&url(&c), StatusCode::SERVICE_UNAVAILABLE, "stream_capacity_reached").await;

    // A client going away frees its stream's place.
    drop(a1);
    let deadline = Instant::now() + SLACK;
    let _c1 = loop {
        let response = stream_request(&url(&c)).await;
        if response.status() == StatusCode::OK {
            break response;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "a closed stream's place was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_refused(&url(&a), StatusCode::SERVICE_UNAVAILABLE, "stream_capacity_reached").await;
    app.stop().await;
}

async fn stream_request(url: &str) -> reqwest::Response {
    let client = reqwest::Client::new();
    client.get(url).header("accept", "text/event-stream").send().await.expect("an answer")
}

async fn assert_refused(url: &str, status: StatusCode, code: &str) {
    let response = stream_request(url).await;
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("an error body");
    assert_eq!(body["error"]["code"], code, "{body}");
}
