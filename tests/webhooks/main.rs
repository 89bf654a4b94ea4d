//! The webhook rail end to end: the real server, real receivers on 127.0.0.1, both databases.

mod catalog;
mod delivery;
mod endpoints;
mod examples;
mod log;
mod proxy;
mod stats;
