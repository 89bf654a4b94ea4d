//! The signed test event, sent to one endpoint now, outside the outbox (never stored or
//! retried), so an integrator sees at once whether their receiver verifies and answers:
//! `webhook.test`, or a realistic example of any of the ten event types
//! ([`super::event_examples`]) signed and headed exactly like a real delivery.

use serde::Serialize;

use super::event_examples;
use crate::clock::now_ms;
use crate::ids::new_sortable_id;
use crate::orgs::Org;
use crate::outbox::{Endpoint, Envelope, EventType, Response, Sender};

/// The `data` of a `webhook.test` event (sent directly, never through the outbox).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest {
    /// Always `Test event from WinFactor`.
    pub message: &'static str,
    /// The endpoint tested.
    pub webhook_id: String,
}

/// The event type of the test event (not one of the catalog's, never stored).
const TEST_EVENT: &str = "webhook.test";

/// Signs and sends a test event to `endpoint` with a fresh event id: the example of
/// `event_type` (its URLs under `public_url`), or `webhook.test` without one. Returns the
/// event's id and the receiver's answer.
pub async fn send_test(
    sender: &Sender,
    org: &Org,
    endpoint: &Endpoint,
    event_type: Option<EventType>,
    public_url: &str,
) -> anyhow::Result<(String, Response)> {
    let event_id = new_sortable_id("evt");
    let now = now_ms();
    let (name, payload) = match event_type {
        Some(event_type) => {
            let example = event_examples::example(event_type, org, public_url, now);
            (event_type.as_str(), serde_json::to_string(&example.envelope(org, now))?)
        }
        None => {
            let data = WebhookTest {
                message: "Test event from WinFactor",
                webhook_id: endpoint.id.clone(),
            };
            let data = serde_json::to_value(data)?;
            (TEST_EVENT, serde_json::to_string(&Envelope::new(org, TEST_EVENT, None, &data, now))?)
        }
    };
    let response = sender.send(endpoint, name, &event_id, &payload.into(), None).await;
    Ok((event_id, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_payload_matches_its_old_json() {
        let test = WebhookTest { message: "Test event from WinFactor", webhook_id: "wh_1".into() };
        let old =
            serde_json::json!({ "message": "Test event from WinFactor", "webhookId": "wh_1" });
        assert_eq!(serde_json::to_value(test).unwrap(), old);
    }
}
