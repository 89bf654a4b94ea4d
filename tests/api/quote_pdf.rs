//! The quote PDF as customers receive it: text in Polish, Czech, German, Greek and
//! Cyrillic extracts exactly (pypdf, an independent parser), 60 line items with a long
//! description break across pages with the table header repeated, amounts stay on the
//! page, money reads as the customer's locale writes it, the uploaded logo is drawn; the
//! logo upload's limits. The customer's quote page shows the logo and the same money. Page images go to `tests/artifacts/pdf/<backend>/`.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use winfactor_tests::{Backend, TestApp, backend_tests, pdf_pages};

backend_tests!(
    a_multilingual_quote_renders_every_string_on_paginated_pages,
    logo_uploads_are_checked
);

const LOGO: &[u8] = include_bytes!("../fixtures/logo.png");

/// Strings the document must carry exactly (the customer block and line items).
const NAME: &str = "Łukasz Żółkiewski";
const COMPANY: &str = "„Dom Kowalskich” – Šťastný & Söhne";
use winfactor_tests::MULTILINGUAL_LINES as LINES;

/// Collapses runs of whitespace (a wrapped line's break, CLDR's no-break spaces) to one
/// space, so a description wrapped across lines compares with its one-line original.
fn squash(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A submission by the Polish customer (`Accept-Language: pl-PL`); returns its id.
async fn polish_submission(app: &TestApp) -> String {
    let session = app.open_session("2-panel-lift-slide").await;
    let id = session["id"].as_str().unwrap();
    let body = json!({"customer": {"name": NAME, "email": "lukasz@example.pl", "companyName": COMPANY, "phone": "+48 22 123 45 67"}});
    let response = app
        .client
        .post(app.url(&format!("/public/v1/configuration-sessions/{id}/submit")))
        .header("accept-language", "pl-PL,pl;q=0.9,en;q=0.5")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn a_multilingual_quote_renders_every_string_on_paginated_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (status, logo) = app.upload_logo_as(&app.seeded.key, "image/png", LOGO.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{logo}");
    let submission = polish_submission(&app).await;
    let long = "Fenêtre sur mesure: ".to_owned()
        + &"Rahmen aus Kiefer, Dichtung umlaufend, Glas Ug 0,5 – ".repeat(6);
    let long: String = long.chars().take(300).collect();
    assert_eq!(long.chars().count(), 300);
    let mut items: Vec<Value> = (0..60)
        .map(|index| {
            let description = format!("{} #{}", LINES[index % LINES.len()], index + 1);
            json!({"description": description, "quantity": 1 + index % 3, "unitPrice": 1234.5})
        })
        .collect();
    items[7]["description"] = json!(long);
    let body = json!({"lineItems": items, "reference": "Zamówienie 2026/ŁÓDŹ/7"});
    let (status, quote) =
        app.post(&format!("/api/v1/submissions/{submission}/quotes"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{quote}");
    let id = quote["id"].as_str().unwrap();
    let (status, _) = app.post(&format!("/api/v1/quotes/{id}/prepare"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let pdf = app
        .client
        .get(app.url(&format!("/api/v1/quotes/{id}/pdf")))
        .bearer_auth(&app.seeded.key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let pages = pdf_pages(&pdf);
    let text = squash(&pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n"));

    // Every string exactly, in the customer's language (pl).
    let number = quote["number"].as_str().unwrap();
    let view_token = quote["viewToken"].as_str().map(str::to_owned);
    for expected in [NAME, COMPANY, "Window Works Inc", number, "Zamówienie 2026/ŁÓDŹ/7", "Oferta"]
        .into_iter()
        .chain(LINES)
    {
        assert!(text.contains(&squash(expected)), "missing {expected:?} in {text}");
    }
    assert!(text.contains(&squash(&long)), "the 300-character description, whole: {text}");
    for index in 0..60 {
        assert!(text.contains(&format!("#{} ", index + 1)) || index == 7, "item {}", index + 1);
    }
    assert!(text.contains("/public/v1/quotes/"), "the view link: {text}");
    if let Some(token) = view_token {
        assert!(text.contains(&token));
    }
    // Money as Polish writes euros; 60 items of 1, 2 or 3 × 1234,50.
    assert!(text.contains("1234,50 €"), "{text}");
    assert!(text.contains("3703,50 €"), "{text}");
    let total = quote["total"].as_f64().unwrap();
    assert_eq!(total, 20.0 * (1.0 + 2.0 + 3.0) * 1234.5);
    assert!(text.contains("148 140,00 €"), "the total, grouped as pl groups it: {text}");

    // Pages: at least two, each table page with the header row, every run on the page.
    assert!(pages.len() >= 2, "{} pages", pages.len());
    let header = "Opis Ilość Cena jedn. Kwota";
    let headers = pages.iter().filter(|p| squash(&p.text).contains(header)).count();
    assert!(
        headers >= 2 && headers >= pages.len() - 1,
        "the header row on each table page: {:?}",
        pages.iter().map(|p| &p.runs[..12.min(p.runs.len())]).collect::<Vec<_>>()
    );
    for (index, page) in pages.iter().enumerate() {
        for (x, y, run) in &page.runs {
            assert!(
                (0.0..page.width).contains(x) && (0.0..page.height).contains(y),
                "page {}: {run:?} at ({x}, {y}) is off the page",
                index + 1
            );
        }
        let amounts: Vec<_> = page.runs.iter().filter(|r| r.2.ends_with('€')).collect();
        for (x, _, amount) in amounts {
            // Right-aligned at the right margin: starts in the right half, ends inside it.
            assert!(*x > page.width / 2.0 && *x < page.width - 48.0, "{amount} at {x}");
        }
    }
    render_pages(&pdf, backend);

    // The customer's page shows the same logo and money as Polish writes it.
    let (status, _) = app
        .post(&format!("/api/v1/quotes/{id}/send"), &json!({"recipients": ["lukasz@example.pl"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mails) = app.get("/api/v1/mail-outbox").await;
    let body = mails[0]["body"].as_str().unwrap();
    let link = body.split_whitespace().find(|w| w.contains("/public/v1/quotes/")).unwrap();
    let page = app.client.get(link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"<img src="/public/v1/orgs/window-works/logo""#), "{page}");
    assert!(squash(&page).contains("148 140,00 €"), "{page}");
}

/// Page images of the document (pdftoppm), for people to look at; also checks that a
/// second renderer reads as many pages.
fn render_pages(pdf: &[u8], backend: Backend) {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts/pdf"))
        .join(format!("{backend:?}").to_lowercase());
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("quote.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&file)
        .arg(dir.join("page"))
        .status()
        .expect("pdftoppm runs (poppler-utils; tests/run.sh installs it)");
    assert!(status.success());
    let images = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("page"))
        .count();
    assert_eq!(images, pdf_pages(pdf).len());
}

async fn logo_uploads_are_checked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let key = app.seeded.key.clone();
    // Refusals change nothing.
    let (status, error) = app.upload_logo_as(&key, "image/gif", LOGO.to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{error}");
    let (status, error) = app.upload_logo_as(&key, "image/jpeg", LOGO.to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a PNG sent as JPEG: {error}");
    assert_eq!(error["error"]["details"]["errors"][0]["path"], "logo", "{error}");
    let mut huge = LOGO.to_vec();
    huge[16..24].copy_from_slice(&[0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10]); // 10000×10000
    let (status, error) = app.upload_logo_as(&key, "image/png", huge).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "too many pixels: {error}");
    let (status, _) = app.upload_logo_as(&key, "image/png", vec![0x89; 600 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) =
        app.upload_logo_as(&app.seeded.read_key.clone(), "image/png", LOGO.to_vec()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read key cannot upload");
    let (status, _) = app.get("/api/v1/organization/logo").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, stored) = app.upload_logo_as(&key, "image/png", LOGO.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!((stored["width"].clone(), stored["height"].clone()), (json!(300), json!(100)));
    assert_eq!(stored["sizeBytes"], json!(LOGO.len()));
    let public = app.client.get(stored["publicUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(public.headers()["content-type"], "image/png");
    assert_eq!(public.headers()["x-content-type-options"], "nosniff");
    assert_eq!(&public.bytes().await.unwrap()[..], LOGO);
    // Another organisation has none, and cannot remove this one.
    let rival = format!("/public/v1/orgs/{}/logo", app.seeded.rival.slug);
    assert_eq!(
        app.client.get(app.url(&rival)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let rival_key = app.seeded.rival_key.clone();
    let (status, _) =
        app.call(Method::DELETE, "/api/v1/organization/logo", Some(&rival_key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.call(Method::DELETE, "/api/v1/organization/logo", Some(&key), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = app.client.get(stored["publicUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
