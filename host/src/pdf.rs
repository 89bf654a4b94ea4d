//! A small PDF 1.4 writer for quotes: Helvetica text in WinAnsi encoding, A4 pages, no
//! dependencies. Enough for a clean, archivable quote document (number, organisation,
//! customer, line items, totals, validity).

use std::fmt::Write as _;

use crate::clock::iso8601;
use crate::orgs::Org;
use crate::store::{Quote, Store};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const LINE: f32 = 16.0;

/// One line of text at a position and size (bold or not).
struct Text {
    x: f32,
    y: f32,
    size: f32,
    bold: bool,
    text: String,
}

/// The quote's document as it stands now, addressed to its submission's customer.
pub async fn quote_document(store: &Store, org: &Org, quote: &Quote) -> anyhow::Result<Vec<u8>> {
    let submission = store.submission(&org.id, &quote.submission_id).await?;
    let customer = submission.map(|s| s.customer).unwrap_or_default();
    Ok(render_quote(org, quote, &customer))
}

/// Renders the quote document.
pub fn render_quote(org: &Org, quote: &Quote, customer: &serde_json::Value) -> Vec<u8> {
    let symbol = crate::orgs::currency_symbol(&quote.currency);
    let mut lines = vec![
        (20.0, true, org.name.clone()),
        (10.0, false, org.email.clone()),
        (10.0, false, String::new()),
        (16.0, true, format!("Quote {}  (version {})", quote.number, quote.version)),
        (10.0, false, format!("Valid until {}", &iso8601(quote.valid_until)[..10])),
    ];
    if let Some(reference) = &quote.reference {
        lines.push((10.0, false, format!("Reference: {reference}")));
    }
    let name = customer["name"].as_str().unwrap_or_default();
    let email = customer["email"].as_str().unwrap_or_default();
    lines.push((10.0, false, String::new()));
    lines.push((11.0, true, "Customer".into()));
    lines.push((10.0, false, format!("{name}  <{email}>")));
    if let Some(company) = customer["companyName"].as_str() {
        lines.push((10.0, false, company.to_owned()));
    }
    lines.push((10.0, false, String::new()));
    lines.push((11.0, true, "Item | Qty | Unit price | Total".into()));
    for item in &quote.pricing.line_items {
        lines.push((
            10.0,
            false,
            format!(
                "{} | {} | {symbol} {:.2} | {symbol} {:.2}",
                item.description,
                item.quantity.normalize(),
                item.unit_price,
                item.total
            ),
        ));
    }
    lines.push((10.0, false, String::new()));
    lines.push((13.0, true, format!("Total: {symbol} {:.2}", quote.pricing.subtotal)));
    let mut pages: Vec<Vec<Text>> = vec![Vec::new()];
    let mut y = PAGE_HEIGHT - MARGIN;
    for (size, bold, text) in lines {
        if y < MARGIN {
            pages.push(Vec::new());
            y = PAGE_HEIGHT - MARGIN;
        }
        if let Some(page) = pages.last_mut() {
            page.push(Text { x: MARGIN, y, size, bold, text });
        }
        y -= LINE.max(size * 1.4);
    }
    document(&pages)
}

/// Assembles objects and the cross-reference table.
fn document(pages: &[Vec<Text>]) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 regular font, 4 bold font, then (page, content) pairs.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len())
            .into_bytes(),
    );
    for font in ["Helvetica", "Helvetica-Bold"] {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding /WinAnsiEncoding >>"
            )
            .into_bytes(),
        );
    }
    for (index, page) in pages.iter().enumerate() {
        let content = content_stream(page);
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                6 + 2 * index
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(&content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

fn content_stream(page: &[Text]) -> Vec<u8> {
    let mut out = Vec::new();
    for text in page {
        let font = if text.bold { "F2" } else { "F1" };
        out.extend_from_slice(
            format!("BT /{font} {} Tf {} {} Td (", text.size, text.x, text.y).as_bytes(),
        );
        out.extend_from_slice(&win_ansi(&text.text));
        out.extend_from_slice(b") Tj ET\n");
    }
    out
}

/// Text as an escaped PDF string in WinAnsi: Latin-1 passes through, `€` is 0x80, anything
/// else becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let byte = match ch {
            '€' => 0x80,
            '(' | ')' | '\\' => {
                out.push(b'\\');
                ch as u8
            }
            c if (c as u32) < 0x20 => b' ',
            c if (c as u32) < 0x7f || (0xa0..=0xff).contains(&(c as u32)) => c as u32 as u8,
            _ => b'?',
        };
        out.push(byte);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_has_a_header_xref_and_trailer() {
        let pdf = document(&[vec![Text {
            x: 1.0,
            y: 2.0,
            size: 10.0,
            bold: false,
            text: "Q-2026-0001 (€)".into(),
        }]]);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.trim_end().ends_with("%%EOF"));
        assert!(text.contains("Q-2026-0001 \\(") && text.contains("xref"));
        let startxref: usize =
            text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert_eq!(&pdf[startxref..startxref + 4], b"xref");
    }
}
