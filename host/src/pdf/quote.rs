//! The quote document's layout: the organisation's letterhead (logo, name, contact), the
//! quote's number, version, date and validity, the customer, a line-item table whose header
//! row repeats on every page, the totals, the reference and the customer's view link.

use krilla::image::Image;

use super::canvas::{BAND, Canvas, INK, MUTED, PAGE_HEIGHT, PAGE_WIDTH, RULE};
use super::labels::{Labels, for_language};
use super::typeset::{Weight, width, wrap};
use crate::catalog::LineItem;
use crate::locale::Formatter;
use crate::orgs::Org;
use crate::store::Quote;

const MARGIN: f32 = 48.0;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// Where content stops, above the footer.
const BOTTOM: f32 = PAGE_HEIGHT - 56.0;
const BODY: f32 = 9.5;
const LEADING: f32 = 12.5;
const GAP: f32 = 10.0;
const AMOUNT_WIDTH: f32 = 86.0;
const QUANTITY_WIDTH: f32 = 50.0;
/// Right edges of the number columns: amount, unit price, quantity.
const AMOUNT_RIGHT: f32 = RIGHT - 4.0;
const UNIT_RIGHT: f32 = AMOUNT_RIGHT - AMOUNT_WIDTH - GAP;
const QUANTITY_RIGHT: f32 = UNIT_RIGHT - AMOUNT_WIDTH - GAP;
const DESCRIPTION_X: f32 = MARGIN + 4.0;
const DESCRIPTION_WIDTH: f32 = QUANTITY_RIGHT - QUANTITY_WIDTH - GAP - DESCRIPTION_X;
const LOGO_MAX: (f32, f32) = (170.0, 64.0);

/// Everything the quote document shows.
#[derive(Debug)]
pub struct QuoteDocument<'a> {
    /// The sender.
    pub org: &'a Org,
    /// The quote at its current version.
    pub quote: &'a Quote,
    /// The submission's customer block (`name`, `email`, `phone`, `companyName`).
    pub customer: &'a serde_json::Value,
    /// The customer's locale, when known (else the organisation's).
    pub customer_locale: Option<&'a str>,
    /// The organisation's uploaded logo (PNG or JPEG bytes), if any.
    pub logo: Option<&'a crate::store::OrgLogo>,
    /// The customer's page for the quote.
    pub view_url: Option<&'a str>,
}

/// Renders the quote document.
pub fn render_quote(doc: &QuoteDocument<'_>) -> anyhow::Result<Vec<u8>> {
    let QuoteDocument { org, quote, .. } = doc;
    let locales = doc.customer_locale.into_iter().chain([org.locale.as_str()]);
    let format = Formatter::new(locales, &quote.currency)?;
    let labels = for_language(format.language());
    let logo = doc.logo.and_then(|logo| super::logo::decode(&logo.content_type, &logo.image));
    let mut canvas = Canvas::default();
    canvas.new_page();
    let mut y = letterhead(&mut canvas, doc, &format, labels, logo.as_ref());
    y = table_header(&mut canvas, y, labels);
    // Descriptions are at most 500 bytes without line breaks (input hygiene), so a row is
    // always shorter than a page: it moves to the next page whole.
    for item in &quote.pricing.line_items {
        let lines = wrap(&item.description, Weight::Regular, BODY, DESCRIPTION_WIDTH);
        let height = lines.len() as f32 * LEADING + 6.0;
        if y + height > BOTTOM {
            y = continuation(&mut canvas, doc, labels);
            y = table_header(&mut canvas, y, labels);
        }
        y = row(&mut canvas, y, item, &lines, &format);
    }
    totals(&mut canvas, y, doc, &format, labels);
    let title = format!("{} {} — {}", labels.quote, quote.number, org.name);
    let footer = |page: usize, count: usize| {
        let pages =
            labels.page.replace("{page}", &page.to_string()).replace("{count}", &count.to_string());
        format!("{} · {} {} · {pages}", org.name, labels.quote, quote.number)
    };
    canvas.finish(logo, &title, &format.locale(), footer)
}

/// The first page's head; answers where the table starts.
fn letterhead(
    canvas: &mut Canvas,
    doc: &QuoteDocument<'_>,
    format: &Formatter,
    labels: &Labels,
    logo: Option<&Image>,
) -> f32 {
    let QuoteDocument { org, quote, customer, .. } = doc;
    // Left: logo, organisation name and contact.
    let mut left = MARGIN;
    if let Some(image) = logo {
        let (w, h) = image.size();
        let scale = (LOGO_MAX.0 / w as f32).min(LOGO_MAX.1 / h as f32);
        let (w, h) = (w as f32 * scale, h as f32 * scale);
        canvas.logo(MARGIN, MARGIN, w, h);
        left += h + 10.0;
    }
    left += 14.0;
    canvas.text(MARGIN, left, 15.0, Weight::Bold, INK, &org.name);
    left += 15.0;
    for contact in [Some(org.email.as_str()), org.phone.as_deref()].into_iter().flatten() {
        canvas.text(MARGIN, left, 9.0, Weight::Regular, MUTED, contact);
        left += 12.0;
    }
    // Right: what the document is.
    let mut right = MARGIN + 18.0;
    canvas.text_right(RIGHT, right, 20.0, Weight::Bold, INK, labels.quote);
    right += 18.0;
    canvas.text_right(RIGHT, right, 11.0, Weight::Bold, INK, &quote.number);
    right += 15.0;
    let mut facts = vec![
        (labels.version, quote.version.to_string()),
        (labels.date, format.date(quote.updated_at)),
        (labels.valid_until, format.date(quote.valid_until)),
    ];
    if let Some(reference) = &quote.reference {
        facts.push((labels.reference, reference.clone()));
    }
    for (label, value) in &facts {
        canvas.text_right(RIGHT, right, 9.0, Weight::Regular, INK, value);
        let at = RIGHT - width(value, Weight::Regular, 9.0) - 6.0;
        canvas.text_right(at, right, 9.0, Weight::Regular, MUTED, &format!("{label}:"));
        right += 12.5;
    }
    // The customer.
    let mut y = left.max(right) + 18.0;
    canvas.text(MARGIN, y, 8.5, Weight::Bold, MUTED, &labels.customer.to_uppercase());
    y += 14.0;
    let field = |name: &str| customer[name].as_str().filter(|text| !text.trim().is_empty());
    if let Some(company) = field("companyName") {
        canvas.text(MARGIN, y, 10.5, Weight::Bold, INK, company);
        y += 13.5;
    }
    for (index, name) in ["name", "email", "phone"].into_iter().enumerate() {
        if let Some(text) = field(name) {
            let weight = if index == 0 { Weight::Bold } else { Weight::Regular };
            for line in wrap(text, weight, 10.0, RIGHT - MARGIN) {
                canvas.text(MARGIN, y, 10.0, weight, INK, &line);
                y += 13.0;
            }
        }
    }
    y + 16.0
}

/// The head of a page after the first; answers where the table starts.
fn continuation(canvas: &mut Canvas, doc: &QuoteDocument<'_>, labels: &Labels) -> f32 {
    canvas.new_page();
    let y = MARGIN + 10.0;
    let head = format!("{} {} ({})", labels.quote, doc.quote.number, labels.continued);
    canvas.text(MARGIN, y, 9.0, Weight::Bold, MUTED, &head);
    canvas.text_right(RIGHT, y, 9.0, Weight::Regular, MUTED, &doc.org.name);
    y + 18.0
}

/// The table's header row; answers where the first row starts.
fn table_header(canvas: &mut Canvas, y: f32, labels: &Labels) -> f32 {
    canvas.rect(MARGIN, y, RIGHT - MARGIN, 20.0, BAND);
    let baseline = y + 13.5;
    canvas.text(DESCRIPTION_X, baseline, 8.5, Weight::Bold, INK, labels.description);
    canvas.text_right(QUANTITY_RIGHT, baseline, 8.5, Weight::Bold, INK, labels.quantity);
    canvas.text_right(UNIT_RIGHT, baseline, 8.5, Weight::Bold, INK, labels.unit_price);
    canvas.text_right(AMOUNT_RIGHT, baseline, 8.5, Weight::Bold, INK, labels.amount);
    y + 24.0
}

/// One line item: the wrapped description, then its numbers on its first line, so text
/// extraction reads the description in one piece. Answers where the next row starts.
fn row(canvas: &mut Canvas, y: f32, item: &LineItem, lines: &[String], format: &Formatter) -> f32 {
    let baseline = y + 10.0;
    for (index, line) in lines.iter().enumerate() {
        let at = baseline + index as f32 * LEADING;
        canvas.text(DESCRIPTION_X, at, BODY, Weight::Regular, INK, line);
    }
    let cells = [
        (QUANTITY_RIGHT, format.number(item.quantity)),
        (UNIT_RIGHT, format.money(item.unit_price)),
        (AMOUNT_RIGHT, format.money(item.total)),
    ];
    for (right, text) in cells {
        canvas.text_right(right, baseline, BODY, Weight::Regular, INK, &text);
    }
    let bottom = y + lines.len() as f32 * LEADING + 6.0;
    canvas.rect(MARGIN, bottom - 0.5, RIGHT - MARGIN, 0.5, RULE);
    bottom
}

/// Subtotal, total and the view link, on a new page when they do not fit.
fn totals(
    canvas: &mut Canvas,
    mut y: f32,
    doc: &QuoteDocument<'_>,
    format: &Formatter,
    labels: &Labels,
) {
    let link_lines =
        doc.view_url.map(|url| wrap(url, Weight::Regular, 8.5, RIGHT - MARGIN)).unwrap_or_default();
    let needed = 64.0 + link_lines.len() as f32 * 11.0 + 24.0;
    if y + needed > BOTTOM {
        y = continuation(canvas, doc, labels);
    }
    let subtotal = doc.quote.pricing.subtotal;
    y += 16.0;
    canvas.text_right(UNIT_RIGHT, y, BODY, Weight::Regular, MUTED, labels.subtotal);
    canvas.text_right(AMOUNT_RIGHT, y, BODY, Weight::Regular, INK, &format.money(subtotal));
    y += 8.0;
    canvas.rect(UNIT_RIGHT - 90.0, y, AMOUNT_RIGHT - UNIT_RIGHT + 94.0, 1.0, INK);
    y += 16.0;
    canvas.text_right(UNIT_RIGHT, y, 11.5, Weight::Bold, INK, labels.total);
    canvas.text_right(AMOUNT_RIGHT, y, 11.5, Weight::Bold, INK, &format.money(subtotal));
    if !link_lines.is_empty() {
        y += 34.0;
        canvas.text(MARGIN, y, 9.0, Weight::Bold, INK, labels.view_online);
        for line in &link_lines {
            y += 12.0;
            canvas.text(MARGIN, y, 8.5, Weight::Regular, MUTED, line);
        }
    }
}
