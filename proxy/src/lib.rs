//! wsgate's data plane: the WebSocket/HTTP reverse proxy that serves a
//! [`wsgate_core::table::RouteTable`].
//!
//! ```text
//!  routes file ─> reload ─┐                      ┌─> forward (HTTP, pooled upstreams)
//!  controller ────────────┴─> watch<RouteTable> ─> router ─> handler ─┤
//!                                                                     └─> upgrade ─> tunnel
//! ```
//!
//! The table is the contract: plain data from `wsgate-core`, built by the routes-file loader
//! or by the controller, published on a `tokio::sync::watch` channel and applied atomically.

pub mod admin;
pub mod affinity;
pub mod auth;
pub mod balance;
pub mod client_addr;
pub mod endpoint;
pub mod error;
pub mod forward;
pub mod handler;
pub mod headers;
pub mod limits;
pub mod listeners;
pub mod metrics;
pub mod policy;
pub mod reload;
pub mod router;
pub mod select;
pub mod server;
pub mod tls;
pub mod upgrade;
pub mod upstream;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use listeners::{BindError, ListenAddrs, Listeners};
pub use metrics::Metrics;
pub use reload::{FileSource, ReloadOutcome};
use wsgate_core::table::RouteTable;

/// Runs the data plane until `shutdown` is cancelled, then drains: stops accepting, sends
/// every WebSocket a close frame (spread over the drain period) and waits up to
/// `shutdown_timeout` for connections to end.
pub async fn run(
    listeners: Listeners,
    tables: watch::Receiver<Arc<RouteTable>>,
    metrics: Metrics,
    shutdown: CancellationToken,
    shutdown_timeout: Duration,
) {
    // Leave time after the last close for the close handshake to finish.
    let spread = shutdown_timeout.saturating_sub(Duration::from_secs(6));
    let mut shared = server::Shared::new(metrics, shutdown.clone(), spread);
    shared.security.listener = listeners.options;
    let shared = Arc::new(shared);
    tokio::spawn(server::follow_tables(shared.clone(), tables));
    let admin_stop = CancellationToken::new();
    let admin = tokio::spawn(admin::serve_admin(
        shared.clone(),
        listeners.admin,
        admin_stop.clone(),
    ));
    let tls = listeners
        .https
        .map(|l| tokio::spawn(server::serve_tls(shared.clone(), l)));
    server::serve_plain(shared.clone(), listeners.http).await;
    if let Some(tls) = tls {
        let _ = tls.await;
    }
    shared.tunnels.close();
    let open = shared.tunnels.len();
    if open > 0 {
        tracing::info!(open, timeout = ?shutdown_timeout, "draining WebSocket connections");
    }
    if tokio::time::timeout(shutdown_timeout, shared.tunnels.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = shared.tunnels.len(),
            "shutdown timeout reached with connections still open"
        );
    }
    admin_stop.cancel();
    let _ = admin.await;
}
