//! The use cases between the HTTP edge ([`crate::api`], [`crate::public`]) and the engines
//! and the store: each one owns its transaction, writes the change and emits the event
//! describing it inside that transaction (committed change ⇒ event), and lets mail leave
//! only after the commit. Handlers parse and validate requests, call a use case here and
//! shape the answer; the scheduled jobs call the same use cases.
//!
//! - [`orgs`] — operators provision organisations: create, update, disable, keys
//! - [`catalogs`] — an organisation's templates: put, delete, import and export a catalog
//! - [`events`] — the typed `data` of every event the use cases emit
//! - [`event_examples`] — one realistic example of every event type (docs, test sends)
//! - [`quotes`] — create a quote, replace or revise its items, auto-fill it; its PDF
//! - [`quote_sending`] — send a quote: `quote.sent` and the mail, mail after commit
//! - [`customer_quotes`] — the customer's side: first view, accept, reject
//! - [`quote_expiry`] — `quote.expiring_soon` and `quote.expired`
//! - [`submissions`] — submit a configuration session with its frozen price
//! - [`leads`] — contact-form intake
//! - [`webhooks`] — the signed test event (`webhook.test`, or an example of any type)
//!
//! Failures are [`Error`]s, which name what went wrong in the domain's terms; the HTTP
//! edge maps them to status codes.

pub mod catalogs;
pub mod customer_quotes;
pub mod event_examples;
pub mod events;
pub mod leads;
pub mod orgs;
pub mod quote_expiry;
pub mod quote_sending;
pub mod quotes;
pub mod submissions;
pub mod webhooks;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something it needs does not exist (or belongs to another organisation).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The current state forbids it (`code` says how, e.g. `quote_closed`).
    #[error("{message}")]
    Conflict {
        /// Machine-readable reason.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The input is not valid: every problem with its JSON path.
    #[error("the input is not valid")]
    Invalid(Vec<crate::validation::FieldError>),
    /// The mail server refused or could not be reached; nothing was changed.
    #[error("mail delivery failed: {0}")]
    MailFailed(String),
    /// A bug or an infrastructure failure.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A conflict with a machine-readable code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
}

/// Result alias of the use cases.
pub type Result<T> = std::result::Result<T, Error>;
