//! Live state of backend endpoints: connection counts that survive table swaps, passive
//! health (ejection with exponential backoff after failed connects), slow-start ramps, and
//! the drain signal fired when an endpoint leaves the table.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge};
use tokio_util::sync::CancellationToken;

use super::movable::{Enlisted, Movable};
use crate::lock::lock;
use crate::metrics::EndpointMetrics;

/// First ejection period after a failed connect; doubled on each further failure.
const EJECT_BASE: Duration = Duration::from_secs(1);
/// Longest ejection period.
const EJECT_MAX: Duration = Duration::from_secs(30);
/// Share a ramping endpoint starts with (its weight is never scaled below this).
const RAMP_FLOOR: f64 = 0.05;
/// `ramp_from` value of an endpoint that is not ramping.
const NOT_RAMPING: u64 = u64::MAX;

/// One endpoint as the data plane sees it.
#[derive(Debug)]
pub struct EndpointState {
    /// Address.
    pub addr: SocketAddr,
    active: AtomicU64,
    gauge: IntGauge,
    requests: IntCounter,
    ejections: IntCounter,
    /// Consecutive failed connects.
    failures: AtomicU32,
    /// Milliseconds since `epoch` until which the endpoint is ejected (0: healthy).
    down_until: AtomicU64,
    /// Milliseconds since `epoch` when the current slow-start ramp began.
    ramp_from: AtomicU64,
    epoch: Instant,
    /// Cancelled when the endpoint is removed (and, as a child, on shutdown).
    pub drain: CancellationToken,
    /// Its connections that rebalancing may move.
    pub movable: Arc<Movable>,
    /// Milliseconds since `epoch` until which rebalancing found the endpoint overloaded
    /// (sticky sessions that may move are then balanced elsewhere).
    overloaded_until: AtomicU64,
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
        self.requests.inc();
        EndpointGuard {
            state: self.clone(),
            counted: true,
        }
    }

    /// Leases the endpoint for a request of a session that is already counted on it (a
    /// Socket.IO poll): the request is counted as sent, not as one more connection.
    pub fn lease_in_session(self: &Arc<Self>) -> EndpointGuard {
        self.requests.inc();
        EndpointGuard {
            state: self.clone(),
            counted: false,
        }
    }

    /// Counts a connection that is not a request of its own (a Socket.IO session between
    /// its polls) until the guard drops.
    pub fn hold(self: &Arc<Self>) -> EndpointGuard {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.gauge.inc();
        EndpointGuard {
            state: self.clone(),
            counted: true,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Not ejected by a recent failed connect.
    pub fn is_healthy(&self) -> bool {
        let until = self.down_until.load(Ordering::Relaxed);
        until == 0 || self.now_ms() >= until
    }

    /// Time left until an ejected endpoint is tried again.
    pub fn retry_in(&self) -> Duration {
        let until = self.down_until.load(Ordering::Relaxed);
        Duration::from_millis(until.saturating_sub(self.now_ms()))
    }

    /// Records a failed or timed-out connect: ejects the endpoint for an exponentially
    /// growing period. Returns the period.
    pub fn mark_failed(&self) -> Duration {
        let failures = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        let period = EJECT_BASE.saturating_mul(factor).min(EJECT_MAX);
        let until = self
            .now_ms()
            .saturating_add(u64::try_from(period.as_millis()).unwrap_or(u64::MAX))
            .max(1);
        self.down_until.store(until, Ordering::Relaxed);
        self.ejections.inc();
        tracing::warn!(endpoint = %self.addr, failures, eject_for = ?period, "endpoint ejected after a failed connect");
        period
    }

    /// Records a successful connect: a previously failing endpoint is healthy again and
    /// ramps up like a new one.
    pub fn mark_ok(&self) {
        if self.failures.swap(0, Ordering::Relaxed) > 0 {
            self.down_until.store(0, Ordering::Relaxed);
            self.ramp_from.store(self.now_ms(), Ordering::Relaxed);
            tracing::info!(endpoint = %self.addr, "endpoint healthy again");
        }
    }

    /// Enlists a running tunnel of `route` among the connections rebalancing may move.
    pub fn enlist(&self, route: Arc<str>) -> Enlisted {
        Movable::enlist(&self.movable, &self.drain, route)
    }

    /// Records that rebalancing found the endpoint overloaded, for the next `period`.
    pub fn mark_overloaded(&self, period: Duration) {
        let until = self
            .now_ms()
            .saturating_add(u64::try_from(period.as_millis()).unwrap_or(u64::MAX));
        self.overloaded_until.store(until, Ordering::Relaxed);
    }

    /// Rebalancing found the endpoint overloaded within the last period it gave.
    pub fn is_overloaded(&self) -> bool {
        self.now_ms() < self.overloaded_until.load(Ordering::Relaxed)
    }

    /// Share of its weight the endpoint gets now, in `RAMP_FLOOR..=1`, for a slow-start
    /// `window` (zero: always 1).
    pub fn ramp(&self, window: Duration) -> f64 {
        let from = self.ramp_from.load(Ordering::Relaxed);
        if window.is_zero() || from == NOT_RAMPING {
            return 1.0;
        }
        let elapsed = self.now_ms().saturating_sub(from) as f64 / 1000.0;
        let share = elapsed / window.as_secs_f64();
        if share >= 1.0 {
            1.0
        } else {
            share.max(RAMP_FLOOR)
        }
    }
}

/// Holds one unit of an endpoint's active count.
#[derive(Debug)]
pub struct EndpointGuard {
    state: Arc<EndpointState>,
    counted: bool,
}

impl EndpointGuard {
    /// The endpoint.
    pub fn endpoint(&self) -> &Arc<EndpointState> {
        &self.state
    }
}

impl Drop for EndpointGuard {
    fn drop(&mut self) {
        if self.counted {
            self.state.active.fetch_sub(1, Ordering::Relaxed);
            self.state.gauge.dec();
        }
    }
}

/// Finds or creates endpoint states by address, so counts carry over between tables.
pub struct EndpointRegistry {
    known: Mutex<HashMap<SocketAddr, Weak<EndpointState>>>,
    shutdown: CancellationToken,
    metrics: EndpointMetrics,
    epoch: Instant,
    /// Set once a first table was applied: endpoints that appear later slow-start.
    seen_table: AtomicBool,
}

impl EndpointRegistry {
    /// An empty registry; endpoint drain tokens are children of `shutdown`.
    pub fn new(shutdown: CancellationToken, metrics: EndpointMetrics) -> Self {
        Self {
            known: Mutex::new(HashMap::new()),
            shutdown,
            metrics,
            epoch: Instant::now(),
            seen_table: AtomicBool::new(false),
        }
    }

    /// The live state for `addr`.
    pub fn get(&self, addr: SocketAddr) -> Arc<EndpointState> {
        let mut known = lock(&self.known);
        if let Some(existing) = known.get(&addr).and_then(Weak::upgrade)
            && !existing.drain.is_cancelled()
        {
            return existing;
        }
        let label = addr.to_string();
        let ramp_from = if self.seen_table.load(Ordering::Relaxed) {
            u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(0)
        } else {
            NOT_RAMPING
        };
        let state = Arc::new(EndpointState {
            addr,
            active: AtomicU64::new(0),
            gauge: self.metrics.active.with_label_values(&[&label]),
            requests: self.metrics.requests.with_label_values(&[&label]),
            ejections: self.metrics.ejections.with_label_values(&[&label]),
            failures: AtomicU32::new(0),
            down_until: AtomicU64::new(0),
            ramp_from: AtomicU64::new(ramp_from),
            epoch: self.epoch,
            drain: self.shutdown.child_token(),
            movable: Arc::default(),
            overloaded_until: AtomicU64::new(0),
        });
        known.insert(addr, Arc::downgrade(&state));
        state
    }

    /// Drains every endpoint not in `keep` and forgets endpoints nobody holds any more.
    pub fn retain(&self, keep: &HashSet<SocketAddr>) {
        self.seen_table.store(true, Ordering::Relaxed);
        let mut known = lock(&self.known);
        known.retain(|addr, weak| {
            let Some(state) = weak.upgrade() else {
                self.metrics.forget(&addr.to_string());
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

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
