//! The HTTP edge shared by the REST API ([`crate::api`]) and the customer-facing API
//! ([`crate::public`]): the state every handler reaches, THE error type with its one status
//! mapping, the extractors (JSON, path, query; API-key authentication), idempotency,
//! input hygiene, pagination, and what bounds requests and streams.

pub mod auth;
pub mod body_deadline;
pub mod error;
pub mod extract;
pub mod hygiene;
pub mod idempotency;
pub mod pagination;
pub mod rate_limit;
pub mod slots;
mod state;

pub use state::AppState;
