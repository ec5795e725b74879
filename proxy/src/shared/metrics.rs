//! Metrics of the shared-state store: every failed call by operation and reason, the retries
//! that saved a call, and whether the store answered last time.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Shared-state store metrics. Cheap to clone.
#[derive(Clone)]
pub struct SharedMetrics {
    /// Calls that failed (the feature then fails closed or falls back), by `op` and `reason`.
    pub errors: IntCounterVec,
    /// Calls retried once on a fresh connection after the pooled one turned out stale.
    pub retries: IntCounter,
    /// 1 when the last call to the store succeeded, 0 when it failed.
    pub up: IntGauge,
    /// Socket.IO sessions this replica did not know, looked up in the shared table, by
    /// `result` (`found`: another replica learned it).
    pub session_lookups: IntCounterVec,
    /// Handshakes on `scope: Cluster` routes judged by this replica's own counts because
    /// the store did not answer.
    pub limit_fallbacks: IntCounter,
}

impl SharedMetrics {
    /// Creates the metrics and registers them on `registry` (a failure to register is
    /// logged; the metrics then still count, unexported).
    pub fn new(registry: &Registry) -> Self {
        let m = Self::unregistered();
        let all: [Box<dyn prometheus::core::Collector>; 5] = [
            Box::new(m.errors.clone()),
            Box::new(m.retries.clone()),
            Box::new(m.up.clone()),
            Box::new(m.session_lookups.clone()),
            Box::new(m.limit_fallbacks.clone()),
        ];
        for c in all {
            if let Err(e) = registry.register(c) {
                tracing::error!(error = %e, "shared-state metrics not registered");
            }
        }
        m
    }

    fn unregistered() -> Self {
        let errors = IntCounterVec::new(
            Opts::new(
                "wsgate_shared_state_errors_total",
                "Calls to the shared-state store (Redis) that failed, by operation and reason",
            ),
            &["op", "reason"],
        );
        let retries = IntCounter::new(
            "wsgate_shared_state_retries_total",
            "Shared-state calls retried once on a fresh connection after a stale one failed",
        );
        let up = IntGauge::new(
            "wsgate_shared_state_up",
            "1 when the last call to the shared-state store succeeded, else 0",
        );
        let session_lookups = IntCounterVec::new(
            Opts::new(
                "wsgate_shared_state_session_lookups_total",
                "Socket.IO sessions unknown to this replica looked up in the shared table, by result",
            ),
            &["result"],
        );
        let limit_fallbacks = IntCounter::new(
            "wsgate_shared_limit_fallbacks_total",
            "Handshakes on scope: Cluster routes judged by this replica's own counts because \
             the shared-state store did not answer",
        );
        match (errors, retries, up, session_lookups, limit_fallbacks) {
            (Ok(errors), Ok(retries), Ok(up), Ok(session_lookups), Ok(limit_fallbacks)) => Self {
                errors,
                retries,
                up,
                session_lookups,
                limit_fallbacks,
            },
            // The names and labels above are constants that prometheus accepts.
            _ => unreachable!("constant metric descriptions are valid"),
        }
    }
}

impl Default for SharedMetrics {
    fn default() -> Self {
        Self::unregistered()
    }
}
