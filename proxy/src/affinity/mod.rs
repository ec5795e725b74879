//! Session affinity: keeping the requests of one session on one endpoint.
//!
//! ```text
//!  request ─┬─ Cookie   ─> token (keyed hash of the address) ─> endpoint, else balance + Set-Cookie
//!           ├─ Header / Query / ClientIP ─> key hash ─> ring walk, bounded load ─> endpoint
//!           └─ SocketIO ─> `sid` ─> SessionStore ─> endpoint, else balance; the handshake
//!                          response's open packet teaches `sid -> endpoint`
//! ```
//!
//! Everything derived from a table (tokens, ring) is built once per table; only the
//! Socket.IO session store changes per request, and it survives table swaps.

pub mod cookie;
pub mod hash;
pub mod ring;
pub mod socketio;

/// The raw value of query parameter `name` (first occurrence), without percent-decoding.
pub fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
