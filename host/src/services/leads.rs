//! Contact-form intake: the lead is stored and `lead.created` emitted in one transaction.

use super::Result;
use super::events::{self, Created, LeadContact, LeadCreated, LeadUrls};
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::orgs::Org;
use crate::store::{Lead, LeadStatus, Store};

/// Characters of the message kept in `messagePreview` before the ellipsis.
pub const PREVIEW_CHARS: usize = 72;

/// A validated contact form.
#[derive(Debug)]
pub struct NewLead {
    /// Who is writing.
    pub name: String,
    /// Where to answer.
    pub email: String,
    /// Optional phone.
    pub phone: Option<String>,
    /// What they want.
    pub message: String,
    /// The customer's language, if the request said.
    pub locale: Option<String>,
}

/// Stores the lead (name, email and phone trimmed; an empty phone dropped) as `new` and
/// emits `lead.created`. Returns the stored lead.
pub async fn intake(store: &Store, public_url: &str, org: &Org, form: NewLead) -> Result<Lead> {
    let now = now_ms();
    let lead = Lead {
        id: new_id("lead"),
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        phone: form.phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        message: form.message,
        status: LeadStatus::New,
        created_at: now,
        updated_at: now,
    };
    let payload = LeadCreated {
        lead: Created { id: lead.id.clone(), created_at: lead.created_at },
        contact: LeadContact {
            name: lead.name.clone(),
            email: lead.email.clone(),
            phone: lead.phone.clone(),
            message: lead.message.clone(),
            message_preview: message_preview(&lead.message),
        },
        urls: LeadUrls { leads_page: format!("{public_url}/api/v1/leads?status=new") },
    };
    let locale = Some(events::customer_locale(form.locale.as_deref(), org));
    let mut tx = store.begin().await?;
    tx.insert_lead(&org.id, &lead).await?;
    events::emit(&mut tx, org, locale, &payload).await?;
    tx.commit().await?;
    Ok(lead)
}

/// The first [`PREVIEW_CHARS`] characters of a message, with `...` when cut.
pub fn message_preview(message: &str) -> String {
    if message.chars().count() <= PREVIEW_CHARS + 3 {
        return message.to_owned();
    }
    let cut: String = message.chars().take(PREVIEW_CHARS).collect();
    format!("{}...", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_matches_the_catalog_example() {
        let message =
            "I am interested in custom sliding doors for my showroom. Can you provide a quote?";
        assert_eq!(
            message_preview(message),
            "I am interested in custom sliding doors for my showroom. Can you provide..."
        );
        assert_eq!(message_preview("Short note."), "Short note.");
    }
}
