//! REST API v1 and service behaviour against the real server, on SQLite and Postgres.

mod auth;
mod catalog;
mod connections;
mod consistency;
mod crm;
mod errors;
mod hygiene;
mod limits;
mod metrics;
mod provisioning;
mod quote_pdf;
mod quotes;
mod retention;
mod service;
