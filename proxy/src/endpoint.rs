//! Live state of backend endpoints: connection counts that survive table swaps, and the
//! drain signal fired when an endpoint leaves the table.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use prometheus::IntGauge;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// One endpoint as the data plane sees it.
#[derive(Debug)]
pub struct EndpointState {
    /// Address.
    pub addr: SocketAddr,
    active: AtomicU64,
    gauge: IntGauge,
    /// Cancelled when the endpoint is removed (and, as a child, on shutdown).
    pub drain: CancellationToken,
}

impl EndpointState {
    /// Open tunnels plus in-flight requests.
    pub fn active(&self) -> u64 {
        self.active.load(Ordering::Relaxed)
    }

    /// Counts one connection or request until the guard drops.
    pub fn acquire(self: &Arc<Self>) -> EndpointGuard {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.gauge.inc();
        EndpointGuard(self.clone())
    }
}

/// Holds one unit of an endpoint's active count.
#[derive(Debug)]
pub struct EndpointGuard(Arc<EndpointState>);

impl EndpointGuard {
    /// The endpoint.
    pub fn endpoint(&self) -> &Arc<EndpointState> {
        &self.0
    }
}

impl Drop for EndpointGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
        self.0.gauge.dec();
    }
}

/// Finds or creates endpoint states by address, so counts carry over between tables.
pub struct EndpointRegistry {
    known: Mutex<HashMap<SocketAddr, Weak<EndpointState>>>,
    shutdown: CancellationToken,
    metrics: Metrics,
}

impl EndpointRegistry {
    /// An empty registry; endpoint drain tokens are children of `shutdown`.
    pub fn new(shutdown: CancellationToken, metrics: Metrics) -> Self {
        Self {
            known: Mutex::new(HashMap::new()),
            shutdown,
            metrics,
        }
    }

    /// The live state for `addr`.
    pub fn get(&self, addr: SocketAddr) -> Arc<EndpointState> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = known.get(&addr).and_then(Weak::upgrade)
            && !existing.drain.is_cancelled()
        {
            return existing;
        }
        let state = Arc::new(EndpointState {
            addr,
            active: AtomicU64::new(0),
            gauge: self
                .metrics
                .endpoint_active
                .with_label_values(&[&addr.to_string()]),
            drain: self.shutdown.child_token(),
        });
        known.insert(addr, Arc::downgrade(&state));
        state
    }

    /// Drains every endpoint not in `keep` and forgets endpoints nobody holds any more.
    pub fn retain(&self, keep: &HashSet<SocketAddr>) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.retain(|addr, weak| {
            let Some(state) = weak.upgrade() else {
                let _ = self.metrics.endpoint_active.remove_label_values(&[&addr.to_string()]);
                return false;
            };
            if keep.contains(addr) {
                return true;
            }
            if !state.drain.is_cancelled() {
                tracing::info!(endpoint = %addr, active = state.active(), "endpoint removed: draining its connections");
                state.drain.cancel();
            }
            false
        });
    }
}
