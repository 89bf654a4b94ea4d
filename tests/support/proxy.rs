//! A real forward proxy on 127.0.0.1:0 that records what reaches it: the first line of
//! every request (`CONNECT host:port …` for a tunnel, `POST http://host:port/… …` for a
//! forwarded plain-HTTP request), then passes the connection through to that target.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts the proxy.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, recorded.clone()));
            }
        });
        Self { url, seen, task }
    }

    /// The request lines received so far (one per connection).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("the record").clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Records the request line, connects to its target and copies both ways.
async fn relay(client: TcpStream, seen: Arc<Mutex<Vec<String>>>) {
    let mut client = BufReader::new(client);
    let mut line = String::new();
    if client.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
    }
    seen.lock().expect("the record").push(line.trim_end().to_owned());
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let authority = match method {
        "CONNECT" => target,
        _ => target.strip_prefix("http://").and_then(|rest| rest.split('/').next()).unwrap_or(""),
    };
    let Ok(mut upstream) = TcpStream::connect(authority).await else {
        let _ = client.get_mut().write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    if method == "CONNECT" {
        // Skip the CONNECT request's headers, then open the tunnel.
        loop {
            let mut header = String::new();
            if client.read_line(&mut header).await.unwrap_or(0) == 0 || header == "\r\n" {
                break;
            }
        }
        let _ = client.get_mut().write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
    } else {
        // An absolute-form request line is valid for the origin server too: pass it on.
        let _ = upstream.write_all(line.as_bytes()).await;
        let _ = upstream.write_all(client.buffer()).await;
        let consumed = client.buffer().len();
        client.consume(consumed);
    }
    let _ = tokio::io::copy_bidirectional(client.get_mut(), &mut upstream).await;
}
