//! The OpenAPI document is the truth: it is valid OpenAPI 3.1, it names exactly the routes
//! the router serves, schemathesis finds no answer it does not describe, a client generated
//! from it runs the integrations' flows, and every keyed route it lists keeps organisations
//! apart. Real server on 127.0.0.1:0; the Python tools run as subprocesses.

mod client;
mod common;
mod document;
mod fuzz;
mod isolation;
mod records;
