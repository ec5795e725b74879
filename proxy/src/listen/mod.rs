//! The listen step: sockets, accept loops and everything before the first request.
//!
//! ```text
//!   accept ─> PROXY header? (proxy_protocol) ─> TLS (tls::accept) ─> first head within the
//!   deadline, else 408 (head) ─> hyper HTTP/1.1 ─> request::handle per request
//! ```

mod bind;
pub(crate) mod head;
mod preamble;
pub(crate) mod proxy_protocol;
pub(crate) mod serve;

pub use bind::{BindError, ListenAddrs, Listeners};
