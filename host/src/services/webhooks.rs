//! The signed test event: `webhook.test` sent to one endpoint now, outside the outbox, so
//! an integrator sees at once whether their receiver verifies and answers.

use super::events::WebhookTest;
use crate::clock::now_ms;
use crate::delivery::{Response, Sender};
use crate::events::Envelope;
use crate::ids::new_sortable_id;
use crate::orgs::Org;
use crate::store::Endpoint;

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
