//! The upstream step: connections to the chosen endpoint and what is sent on them.
//!
//! ```text
//!   endpoint addr ─connect (TCP, TLS)─> HTTP/1.1 handshake ─> send_with_timeout ─> response head
//!                  pool: idle keep-alive connections for plain HTTP, by endpoint
//!                  replay: a bodiless idempotent request again when a reused connection closed
//! ```

pub(crate) mod connect;
pub(crate) mod pool;
pub(crate) mod replay;
pub(crate) mod send;
