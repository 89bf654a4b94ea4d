//! The signed test event: `webhook.test` sent to one endpoint now, outside the outbox, so
//! an integrator sees at once whether their receiver verifies and answers.

use serde::Serialize;

use crate::clock::now_ms;
use crate::ids::new_sortable_id;
use crate::orgs::Org;
use crate::outbox::{Endpoint, Envelope, Response, Sender};

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

/// Signs and sends a `webhook.test` event to `endpoint`; returns the event's id and the
/// receiver's answer.
pub async fn send_test(
    sender: &Sender,
    org: &Org,
    endpoint: &Endpoint,
) -> anyhow::Result<(String, Response)> {
    let event_id = new_sortable_id("evt");
    let data =
        WebhookTest { message: "Test event from WinFactor", webhook_id: endpoint.id.clone() };
    let data = serde_json::to_value(data)?;
    let envelope = Envelope::new(org, TEST_EVENT, None, &data, now_ms());
    let payload = serde_json::to_string(&envelope)?;
    let response = sender.send(endpoint, TEST_EVENT, &event_id, &payload.into(), None).await;
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
