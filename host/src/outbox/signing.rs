//! Webhook signatures: one secret, two header families.
//!
//! - `X-WinFactor-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
//!   HMAC-SHA256(key = the secret string as UTF-8, message = `"<t>.<raw body>"`); during a
//!   rotation grace period one `v1=` per active secret, newest first.
//! - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`)
//!   where `<base64>` is HMAC-SHA256(key = base64-decoded part after `whsec_`,
//!   message = `"<id>.<timestamp>.<raw body>"`), space-separated per active secret — so the
//!   published `standardwebhooks` libraries verify it unchanged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The `v1` value of `X-WinFactor-Signature` for one secret.
pub fn winfactor_v1(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    hex::encode(hmac(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]))
}

/// The Standard Webhooks signature (without the `v1,` prefix) for one secret.
pub fn standard_v1(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(encoded).unwrap_or_else(|_| encoded.as_bytes().to_vec());
    let timestamp = timestamp.to_string();
    STANDARD.encode(hmac(&key, &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body]))
}

/// Every signature header of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `X-WinFactor-Signature`
    pub winfactor: String,
    /// `webhook-timestamp`
    pub timestamp: String,
    /// `webhook-signature`
    pub standard: String,
}

/// Signs `body` of event `id` at `timestamp` (unix seconds) with every active secret.
pub fn sign(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> SignatureHeaders {
    let mut winfactor = format!("t={timestamp}");
    let mut standard = Vec::with_capacity(secrets.len());
    for secret in secrets {
        winfactor.push_str(",v1=");
        winfactor.push_str(&winfactor_v1(secret, timestamp, body));
        standard.push(format!("v1,{}", standard_v1(secret, id, timestamp, body)));
    }
    SignatureHeaders { winfactor, timestamp: timestamp.to_string(), standard: standard.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example from the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = standard_v1(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn rotation_signs_with_every_secret() {
        let headers = sign(&["whsec_bmV3", "whsec_b2xk"], "evt_1", 1700000000, b"{}");
        assert_eq!(headers.winfactor.matches(",v1=").count(), 2);
        assert_eq!(headers.standard.split(' ').count(), 2);
        assert!(headers.winfactor.starts_with("t=1700000000,v1="));
        assert!(generate_secret().starts_with(SECRET_PREFIX));
    }
}
