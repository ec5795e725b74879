//! The policy step: who the client is, and whether the route lets it in.
//!
//! ```text
//!   admit ─> client_addr (trusted-proxy walk) ─> source ranges ─> limiter ─> Origin (core) ─> auth (ticket, replay, external)
//! ```

pub(crate) mod admit;
pub(crate) mod auth;
pub(crate) mod client_addr;
pub(crate) mod limiter;
pub(crate) mod limiter_state;
pub(crate) mod signin;
