//! wsgate's WebSocket tunnel: after `101`, relays frames both ways while tracking their
//! boundaries, so it can count messages, enforce the size limit, keep the client alive with
//! pings, close idle connections, and close with a proper frame on drain and shutdown. It
//! knows nothing of routes: it is given a narrow [`TunnelPolicy`]. See `LIFECYCLE.md`.
//!
//! ```text
//!   client ──Up half (masked frames)──────> backend        half.rs   one direction
//!   client <─Down half (unmasked frames)─── backend        frame.rs  frame boundaries
//!                 ^ pings, closes injected at frame boundaries   tunnel.rs timers, closes
//!   (FirstMessage: first_message.rs reads one message before the tunnel starts)
//! ```

mod cancel_watch;
mod config;
pub mod first_message;
pub mod frame;
mod half;
mod pool;
mod prefixed;
pub mod rules;
mod sizes;
mod summary;
mod tunnel;
mod utf8;

pub use config::{CloseRequest, Drain, Keepalive, Meter, Traffic, TunnelConfig, TunnelPolicy};
pub use pool::buffers_in_use;
pub use prefixed::Prefixed;
pub use rules::Rules;
pub use sizes::{MESSAGE_SIZE_BUCKETS, SizeCounts};
pub use summary::{CloseReason, CloseSide, TunnelSummary};
pub use tunnel::run;
