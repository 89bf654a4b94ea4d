//! A WinFactor webhook receiver: verifies `X-WinFactor-Signature` (rejecting bad and stale
//! signatures, 5-minute tolerance), dedups on `X-WinFactor-Delivery`, and logs each event.
//!
//! ```sh
//! WEBHOOK_SECRET=whsec_… PORT=9000 cargo run -p webhook-receiver
//! ```
//! then register `http://127.0.0.1:9000/webhooks` (the server needs
//! `WINFACTOR_ALLOW_PRIVATE_WEBHOOK_TARGETS=true` for a local target).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Signatures older or newer than this are rejected (replay protection).
const TOLERANCE_SECONDS: i64 = 300;

struct Receiver {
    secret: String,
    /// Delivery ids already processed; delivery is at-least-once.
    seen: Mutex<HashSet<String>>,
}

#[tokio::main]
async fn main() {
    let secret = std::env::var("WEBHOOK_SECRET")
        .expect("set WEBHOOK_SECRET to the endpoint's whsec_… secret");
    let port = std::env::var("PORT").unwrap_or_else(|_| "9000".into());
    let state = Arc::new(Receiver { secret, seen: Mutex::new(HashSet::new()) });
    let app = axum::Router::new().route("/webhooks", post(receive)).with_state(state);
    let listener =
        tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("a free port");
    println!("listening on http://{}/webhooks", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    if let Err(reason) = verify(header("x-winfactor-signature"), &body, &receiver.secret, now) {
        println!("rejected: {reason}");
        return StatusCode::UNAUTHORIZED;
    }
    let delivery = header("x-winfactor-delivery").to_owned();
    if !receiver.seen.lock().unwrap().insert(delivery.clone()) {
        println!("duplicate {delivery}: already processed");
        return StatusCode::OK;
    }
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    println!("{} {} {}", header("x-winfactor-event"), delivery, event["data"]);
    StatusCode::OK
}

/// Checks `t=<unix>,v1=<hex>[,v1=…]`: HMAC-SHA256 over `"<t>.<body>"` keyed with the secret
/// string, any `v1` matching (several during a secret rotation), `t` within tolerance.
fn verify(header: &str, body: &[u8], secret: &str, now: i64) -> Result<(), &'static str> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("missing timestamp")?;
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err("stale signature");
    }
    for candidate in candidates {
        let Ok(expected) = hex::decode(candidate) else { continue };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(()); // constant-time comparison
        }
    }
    Err("no valid signature")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn accepts_good_and_rejects_bad_or_stale_signatures() {
        let body = br#"{"event":"lead.created"}"#;
        let header = sign("whsec_abc", 1_000_000, body);
        assert_eq!(verify(&header, body, "whsec_abc", 1_000_100), Ok(()));
        assert_eq!(verify(&header, body, "whsec_other", 1_000_100), Err("no valid signature"));
        assert_eq!(verify(&header, b"{}", "whsec_abc", 1_000_100), Err("no valid signature"));
        assert_eq!(verify(&header, body, "whsec_abc", 1_000_400), Err("stale signature"));
        let rotated = format!("{header},v1={}", "00".repeat(32));
        assert_eq!(verify(&rotated, body, "whsec_abc", 1_000_000), Ok(()));
    }
}
