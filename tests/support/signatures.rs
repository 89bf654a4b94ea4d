//! Independent signature checks for tests: our own HMAC code, and the published
//! `standardwebhooks` Python package.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Received;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The `v1=` values of `X-WinFactor-Signature` that verify with `secret`.
pub fn winfactor_signature_valid(request: &Received, secret: &str) -> bool {
    let header = request.header("x-winfactor-signature");
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = Some(value.to_owned()),
            Some(("v1", value)) => signatures.push(value.to_owned()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else { return false };
    let expected = hex::encode(hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp}.{}", request.body).as_bytes(),
    ));
    signatures.contains(&expected)
}

/// Whether one of the `webhook-signature` entries verifies with `secret` (Standard Webhooks).
pub fn standard_signature_valid(request: &Received, secret: &str) -> bool {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let message = format!(
        "{}.{}.{}",
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
        request.body
    );
    let expected = format!("v1,{}", STANDARD.encode(hmac_sha256(&key, message.as_bytes())));
    request.header("webhook-signature").split(' ').any(|s| s == expected)
}

/// Verifies with the `standardwebhooks` Python package (installed by the test command);
/// returns the package's verdict.
pub fn python_standardwebhooks_verifies(request: &Received, secret: &str) -> bool {
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
data = json.load(sys.stdin)
try:
    Webhook(data["secret"]).verify(data["body"], data["headers"])
    print("valid")
except Exception as error:
    print("invalid", error)
"#;
    let input = serde_json::json!({
        "secret": secret,
        "body": request.body,
        "headers": {
            "webhook-id": request.header("webhook-id"),
            "webhook-timestamp": request.header("webhook-timestamp"),
            "webhook-signature": request.header("webhook-signature"),
        },
    });
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let verdict = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        output.status.success(),
        "python failed (is standardwebhooks installed? tests/run.sh installs it)"
    );
    verdict == "valid"
}
