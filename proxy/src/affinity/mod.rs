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

pub mod socketio;
