//! The quote PDF, written with krilla: DejaVu Sans embedded as subset TrueType (so Polish,
//! Czech, German, Greek and Cyrillic text prints and extracts as itself), shaped text,
//! money, numbers and dates in the customer's locale, the organisation's uploaded logo,
//! and a line-item table that breaks across pages with its header row repeated.

mod canvas;
mod labels;
mod logo;
mod quote;
mod typeset;

pub use logo::{LOGO_TYPES, MAX_LOGO_BYTES, MAX_LOGO_SIDE, check_logo};
pub use quote::{QuoteDocument, render_quote};

use crate::orgs::Org;
use crate::store::{Quote, Store};

/// The quote's document as it stands now, addressed to its submission's customer, with
/// the customer's view link under `public_url`. The rendering (tens of milliseconds of
/// shaping and font subsetting) runs on the blocking pool, off the request workers.
pub async fn quote_document(
    store: &Store,
    org: &Org,
    quote: &Quote,
    public_url: &str,
) -> anyhow::Result<Vec<u8>> {
    let submission = store.submission(&org.id, &quote.submission_id).await?;
    let (customer, locale) =
        submission.map(|s| (s.customer, s.customer_locale)).unwrap_or_default();
    let logo = store.org_logo(&org.id).await?;
    let view_url = (!public_url.is_empty())
        .then(|| format!("{public_url}/public/v1/quotes/{}", quote.view_token));
    let (org, quote) = (org.clone(), quote.clone());
    tokio::task::spawn_blocking(move || {
        render_quote(&QuoteDocument {
            org: &org,
            quote: &quote,
            customer: &customer,
            customer_locale: locale.as_deref(),
            logo: logo.as_ref(),
            view_url: view_url.as_deref(),
        })
    })
    .await?
}
