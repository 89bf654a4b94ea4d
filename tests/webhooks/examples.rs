//! The Python example receiver (`examples/webhook-receiver/receiver.py`) verifies real
//! deliveries with the published `standardwebhooks` package.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use winfactor_tests::{Backend, TestApp, backend_tests};

backend_tests!(the_python_example_receiver_verifies_and_dedups);

async fn the_python_example_receiver_verifies_and_dedups(backend: Backend) {
    let app = TestApp::start(backend).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/webhook-receiver/receiver.py");
    // Register first to learn the secret, then point the endpoint at the receiver's port.
    let (id, secret) =
        app.register_webhook("http://127.0.0.1:9/placeholder", &["lead.created"], None).await;
    let mut child = Command::new("python3")
        .arg(script)
        .env("WEBHOOK_SECRET", &secret)
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the example");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut next_line = async || {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.recv()).await;
        serde_json::from_str::<serde_json::Value>(
            &line.expect("the receiver printed").expect("a line"),
        )
        .unwrap()
    };
    let port = next_line().await["listening"].as_u64().expect("the listening port");
    let url = format!("http://127.0.0.1:{port}/webhooks");
    let (status, _) =
        app.patch(&format!("/api/v1/webhooks/{id}"), &serde_json::json!({"url": url})).await;
    assert!(status.is_success());

    app.submit_lead("Py", "py@example.com", "Hello from Python").await;
    let accepted = next_line().await;
    assert_eq!(accepted["event"], "lead.created");
    assert_eq!(accepted["data"]["contact"]["email"], "py@example.com");
    let delivery = accepted["delivery"].as_str().unwrap().to_owned();
    app.wait_for_event(&delivery, Duration::from_secs(10), |e| {
        e["deliveries"][0]["status"] == "delivered"
    })
    .await;
    let (status, _) =
        app.post(&format!("/api/v1/events/{delivery}/redeliver"), &serde_json::json!({})).await;
    assert!(status.is_success());
    app.submit_lead("Py", "py2@example.com", "Second").await;
    let next = next_line().await;
    assert_ne!(
        next["delivery"],
        delivery.as_str(),
        "the redelivered duplicate was not printed again"
    );
    child.kill().ok();
    child.wait().ok();
}
