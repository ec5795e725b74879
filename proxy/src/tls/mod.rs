//! TLS termination and origination.
//!
//! ```text
//!  RouteTable ──apply──> CertStore (per table, ArcSwap) ──SNI lookup──┐
//!  TCP accept ──> accept::accept: ClientHello ──> ServerConfig ───────┴─> TlsStream ──> HTTP/1.1
//!  Rule.upstream_tls ──> client::UpstreamConnector ──> TLS to the endpoint
//! ```
//!
//! Certificates are data in the route table ([`wsgate_core::table::TlsCert`]); a new table
//! brings a new store, and established connections keep the session they negotiated.

pub(crate) mod accept;
pub(crate) mod client;
pub(crate) mod store;
