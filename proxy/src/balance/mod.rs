//! The balance step: which endpoint of the matched rule gets the request.
//!
//! ```text
//!  request ─┬─ Cookie   ─> token (keyed hash of the address) ─> endpoint, else balance + Set-Cookie
//!           ├─ Header / Query / ClientIP ─> key hash ─> ring walk, bounded load ─> endpoint
//!           ├─ SocketIO ─> `sid` ─> SessionStore ─> endpoint, else balance; the handshake
//!           │              response's open packet teaches `sid -> endpoint` (learn.rs)
//!           └─ none ─> least connections (P2C above 16 endpoints) | round robin | ring
//! ```
//!
//! `balancer` is derived once per table; `endpoint` holds live state (counts, ejection,
//! slow start, drain, the `movable` tunnels) that survives table swaps; `select` is the
//! per-request choice; `rebalance` is the one task that moves connections off overloaded
//! endpoints after a scale-out.

pub(crate) mod balancer;
pub(crate) mod endpoint;
pub(crate) mod learn;
pub(crate) mod movable;
pub(crate) mod rebalance;
pub(crate) mod select;
pub(crate) mod sessions;
mod sessions_shared;
