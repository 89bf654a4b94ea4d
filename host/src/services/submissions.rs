//! Submitting a configuration session: the organisation's price is frozen (the matching
//! adjustment, or its answer to `pricing.calculated` with context `submission`, or base
//! pricing after `timeoutMs`), the customer filed as a contact, the submission stored and
//! `submission.created` emitted, in one transaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::events::{
    self, ConfigurationSummary, Created, PricingSubmission, SubmissionCreated, SubmissionUrls,
};
use super::{Error, Result};
use crate::catalog::{Pricing, PricingContext, PricingSource, Template};
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::orgs::Org;
use crate::pricing::{Pricer, Session};
use crate::store::{ContactDetails, LATEST, Store, Submission};

/// The customer's details.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Customer {
    /// Full name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Email (the contact's key).
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Phone.
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// Company.
    #[schema(max_length = 200)]
    pub company_name: Option<String>,
}

/// The customer block a submission stores: the name and email trimmed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SubmittedCustomer<'a> {
    name: &'a str,
    email: &'a str,
    phone: Option<&'a str>,
    company_name: Option<&'a str>,
}

/// A validated submission of a session.
#[derive(Debug)]
pub struct NewSubmission {
    /// Who submits.
    pub customer: Customer,
    /// Free text.
    pub notes: Option<String>,
    /// Units of the configuration (default 1).
    pub unit_amount: Option<i64>,
    /// The customer's language, if the request said.
    pub locale: Option<String>,
}

/// The organisation of a session and the template version it prices against (`not found`
/// when the organisation is gone or disabled).
pub async fn org_and_template(store: &Store, session: &Session) -> Result<(Org, Template)> {
    let org = store.org(&session.org_id).await?;
    let org = org.filter(Org::is_active).ok_or(Error::NotFound("configuration session"))?;
    let template = store
        .template_version(&org.id, &session.template_id, session.template_version)
        .await?
        .ok_or(Error::NotFound("template"))?;
    Ok((org, template))
}

/// The organisation of a session and the current version of its template, deleted or not:
/// what a configuration change validates and prices against (the session moves to it).
pub async fn org_and_current_template(store: &Store, session: &Session) -> Result<(Org, Template)> {
    let (org, _) = org_and_template(store, session).await?;
    let template = store
        .template_version(&org.id, &session.template_id, LATEST)
        .await?
        .ok_or(Error::NotFound("template"))?;
    Ok((org, template))
}

/// Submits session `session_id` (once: `already_submitted` after) and emits
/// `submission.created`. Returns the stored submission.
pub async fn submit(
    store: &Store,
    pricer: &Pricer,
    public_url: &str,
    session_id: &str,
    new: NewSubmission,
) -> Result<Submission> {
    let session =
        store.session(session_id).await?.ok_or(Error::NotFound("configuration session"))?;
    let (org, template) = org_and_template(store, &session).await?;
    let submitted = || Error::conflict("already_submitted", "this session has been submitted");
    if session.submission_id.is_some() {
        return Err(submitted());
    }
    let submission_id = new_id("sub");
    let NewSubmission { customer, notes, unit_amount, locale } = new;
    let preview = PricingSubmission {
        id: submission_id.clone(),
        customer: to_value(&customer)?,
        notes: notes.clone(),
        quote_id: None,
    };
    let request = crate::pricing::session_request(
        &org,
        &session,
        &template,
        &session.configuration,
        PricingContext::Submission,
    )
    .with_submission(to_value(&preview)?);
    let (pricing, source) = pricer.price_for_submission(&org, &session, request).await?;
    let now = now_ms();
    let mut tx = store.begin().await?;
    let details = ContactDetails {
        email: customer.email.clone(),
        name: customer.name.trim().to_owned(),
        phone: customer.phone.clone(),
        company_name: customer.company_name.clone(),
        external_ref: None,
    };
    let contact = tx.upsert_contact(&org.id, &details, true).await?;
    let stored_customer = SubmittedCustomer {
        name: &details.name,
        email: details.email.trim(),
        phone: customer.phone.as_deref(),
        company_name: customer.company_name.as_deref(),
    };
    let submission = Submission {
        id: submission_id,
        org_id: org.id.clone(),
        session_id: session.id.clone(),
        template_id: template.id.clone(),
        template_version: template.version,
        contact_id: contact.id,
        customer: to_value(&stored_customer)?,
        customer_locale: locale,
        notes,
        unit_amount: unit_amount.unwrap_or(1),
        configuration: session.configuration.clone(),
        config_hash: session.config_hash.clone(),
        pricing,
        pricing_source: source,
        external_ref: None,
        latest_quote_id: None,
        created_at: now,
        updated_at: now,
    };
    if !tx.mark_session_submitted(&session.id, &submission.id).await? {
        return Err(submitted());
    }
    tx.insert_submission(&submission).await?;
    let payload = SubmissionCreated {
        submission: Created { id: submission.id.clone(), created_at: submission.created_at },
        customer: submission.customer.clone(),
        template: (&template).into(),
        configuration: ConfigurationSummary {
            width: submission.configuration.width,
            height: submission.configuration.height,
            unit_amount: submission.unit_amount,
            component_count: submission.configuration.components.len(),
        },
        pricing: FrozenPricing::of(&submission),
        urls: SubmissionUrls {
            submission_detail: format!("{public_url}/api/v1/submissions/{}", submission.id),
        },
    };
    let locale = events::customer_locale(submission.customer_locale.as_deref(), &org);
    events::emit(&mut tx, &org, Some(locale), &payload).await?;
    tx.commit().await?;
    Ok(submission)
}

/// A submission's frozen price: `{currency, subtotal, lineItems, source}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FrozenPricing {
    /// The breakdown as frozen.
    #[serde(flatten)]
    pub pricing: Pricing,
    /// Who computed it.
    pub source: PricingSource,
}

impl FrozenPricing {
    /// The frozen price of `submission`.
    pub fn of(submission: &Submission) -> Self {
        Self { pricing: submission.pricing.clone(), source: submission.pricing_source }
    }
}

/// `{currency, subtotal, lineItems, source}` of a submission's frozen price, as JSON.
pub fn frozen_pricing(submission: &Submission) -> Value {
    serde_json::to_value(FrozenPricing::of(submission)).unwrap_or_default()
}

fn to_value(value: &impl Serialize) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_customer_block_matches_its_old_json() {
        let block = SubmittedCustomer {
            name: "Ann",
            email: "ann@example.com",
            phone: None,
            company_name: Some("Ann BV"),
        };
        let old = serde_json::json!({
            "name": "Ann", "email": "ann@example.com", "phone": null, "companyName": "Ann BV",
        });
        assert_eq!(serde_json::to_value(block).unwrap(), old);
    }
}
