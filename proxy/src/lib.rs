//! wsgate's data plane: the WebSocket/HTTP reverse proxy that serves a
//! [`wsgate_core::table::RouteTable`]. The folders follow a request:
//!
//! ```text
//!  listen ──> request ──> route ──> policy ──> balance ──> upstream ──> relay (wsgate-tunnel)
//!  accept,    one line    match     limits,    affinity,   connect,     tunnel task,
//!  PROXY,     per path    host and  Origin,    balancing,  TLS, pool,   metrics,
//!  TLS, head  (upgrade,   path      tickets,   retry       send with    access log
//!             HTTP)                 external               timeout
//!
//!  tables ──watch──> state (router, certificates, endpoints, sessions, limits) <── every step
//! ```
//!
//! The table is the contract: plain data from `wsgate-core`, built by the routes-file
//! loader ([`FileSource`]) or by the controller, published on a `tokio::sync::watch`
//! channel and applied atomically. [`run`] takes bound listeners, that channel, metrics on
//! an explicit registry and a shutdown token, so tests run the real thing on port 0.

mod access;
mod admin;
mod balance;
mod body;
mod error;
mod listen;
mod lock;
mod metrics;
mod policy;
mod relay;
mod relay_stream;
mod reload;
mod request;
mod route;
mod route_metrics;
mod shared;
mod spelling;
mod state;
mod tls;
mod upstream;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wsgate_core::table::RouteTable;
use wsgate_core::table::shared::SharedState;

pub use listen::{BindError, ListenAddrs, Listeners};

/// The readers of what a client sends before any route applies: the PROXY protocol header
/// and the first request head. Public for the fuzz targets (`fuzz/`) and their seed replay.
pub mod wire {
    pub use crate::listen::head::{FirstHead, read_first_head};
    pub use crate::listen::proxy_protocol::{ProxyHeaderError, parse_v1, parse_v2, read_header};
}
pub use metrics::Metrics;
pub use reload::{FileSource, ReloadOutcome};

/// Runs the data plane until `shutdown` is cancelled, then drains: stops accepting, sends
/// every WebSocket a close frame (spread over the drain period) and waits up to
/// `shutdown_timeout` for connections to end. State the replicas share goes through
/// `shared` (per-replica state when it names no store).
pub async fn run(
    listeners: Listeners,
    tables: watch::Receiver<Arc<RouteTable>>,
    metrics: Metrics,
    shutdown: CancellationToken,
    shutdown_timeout: Duration,
    shared: SharedState,
) {
    let state = Arc::new(state::State::new(
        metrics,
        listeners.options,
        &shared,
        shutdown.clone(),
        shutdown_timeout,
    ));
    tokio::spawn(state.clone().follow(tables));
    tokio::spawn(balance::rebalance::run(state.clone()));
    let admin_stop = CancellationToken::new();
    let admin = tokio::spawn(admin::serve_admin(
        state.clone(),
        listeners.admin,
        admin_stop.clone(),
    ));
    // Both accept loops run as tasks on the workers: awaited here they would run on the
    // thread that called `block_on`, and every accepted connection would cost a wakeup of
    // that thread and a spawn from outside the runtime.
    let tls = listeners
        .https
        .map(|l| tokio::spawn(listen::serve::serve_tls(state.clone(), l)));
    let plain = tokio::spawn(listen::serve::serve_plain(state.clone(), listeners.http));
    let _ = plain.await;
    if let Some(tls) = tls {
        let _ = tls.await;
    }
    drain(&state, shutdown_timeout).await;
    admin_stop.cancel();
    let _ = admin.await;
}

/// Waits up to `timeout` for the open tunnels, which are closing on the shutdown signal
/// (at once when a `/drain` already closed them).
async fn drain(state: &state::State, timeout: Duration) {
    admin::drain::drain(state, timeout).await;
}
