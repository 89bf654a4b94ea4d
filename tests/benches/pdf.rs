//! The quote PDF (run with `cargo bench -p winfactor-tests --bench pdf`): a quote of 60 line
//! items in Polish, Czech, German, Greek and Cyrillic with the organisation's logo, rendered
//! by `winfactor::pdf::quote_document` (its submission and logo read from the database,
//! fonts subset, the document written) 200 times in a row. Printed: p50/p99/max per
//! document, its size and page count.

use std::time::{Duration, Instant};

use serde_json::json;
use winfactor_tests::bench::{on_each_backend, percentile};
use winfactor_tests::{Backend, TestApp, pdf_pages};

const RUNS: usize = 200;
use winfactor_tests::MULTILINGUAL_LINES as LINES;

fn main() {
    on_each_backend(measure);
}

async fn measure(backend: Backend) {
    let app = TestApp::start(backend).await;
    let logo = include_bytes!("../fixtures/logo.png").to_vec();
    let (status, uploaded) = app.upload_logo_as(&app.seeded.key, "image/png", logo).await;
    assert!(status.is_success(), "{uploaded}");
    let session = app.open_session("2-panel-lift-slide").await;
    let body = json!({"customer": {"name": "Łukasz Żółkiewski", "email": "lukasz@example.pl"}});
    let submission = app.submit_session(&session, &body).await["id"].as_str().unwrap().to_owned();
    let items: Vec<_> = (0..60)
        .map(|i| json!({"description": format!("{} #{}", LINES[i % 5], i + 1), "quantity": 1 + i % 3, "unitPrice": 1234.5}))
        .collect();
    let (_, quote) = app
        .post(&format!("/api/v1/submissions/{submission}/quotes"), &json!({"lineItems": items}))
        .await;
    let org = app.seeded.org.clone();
    let quote = app.store.quote(&org.id, quote["id"].as_str().unwrap()).await.unwrap().unwrap();
    let mut times = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let pdf =
            winfactor::pdf::quote_document(&app.store, &org, &quote, &app.base).await.unwrap();
        times.push(started.elapsed());
        size = pdf.len();
    }
    let pdf = winfactor::pdf::quote_document(&app.store, &org, &quote, &app.base).await.unwrap();
    let pages = pdf_pages(&pdf).len();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{backend:?}: 60-item quote PDF, {pages} pages, {:.1} KiB: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({RUNS} renders)",
        size as f64 / 1024.0,
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap()),
    );
}
