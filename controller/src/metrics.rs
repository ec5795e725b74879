//! Control-plane metrics, registered on the same explicit registry as the data plane's so
//! `/metrics` shows both.

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Every controller metric. Cheap to clone.
#[derive(Clone)]
pub struct ControllerMetrics {
    /// Watch events received, by kind.
    pub watch_events: IntCounterVec,
    /// Watch errors (each followed by a backoff and a retry), by kind.
    pub watch_errors: IntCounterVec,
    /// Objects left out because they could not be read, by kind.
    pub malformed_objects: IntCounterVec,
    /// Table rebuilds.
    pub rebuilds: IntCounter,
    /// Time a rebuild takes.
    pub rebuild_seconds: Histogram,
    /// Objects by condition type and status.
    pub objects_by_condition: IntGaugeVec,
    /// 1 while this replica holds the leader Lease.
    pub leader: IntGauge,
    /// Status and Event writes that failed, by what was written.
    pub write_errors: IntCounterVec,
}

impl ControllerMetrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            watch_events: IntCounterVec::new(
                Opts::new(
                    "wsgate_controller_watch_events_total",
                    "Watch events by kind",
                ),
                &["kind"],
            )?,
            watch_errors: IntCounterVec::new(
                Opts::new(
                    "wsgate_controller_watch_errors_total",
                    "Watch errors by kind",
                ),
                &["kind"],
            )?,
            malformed_objects: IntCounterVec::new(
                Opts::new(
                    "wsgate_controller_malformed_objects_total",
                    "Objects ignored because they could not be read",
                ),
                &["kind"],
            )?,
            rebuilds: IntCounter::new(
                "wsgate_controller_table_rebuilds_total",
                "Route-table rebuilds",
            )?,
            rebuild_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "wsgate_controller_table_rebuild_duration_seconds",
                    "Time to translate the cluster objects into a route table",
                )
                .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            )?,
            objects_by_condition: IntGaugeVec::new(
                Opts::new(
                    "wsgate_controller_objects",
                    "WebSocketRoutes and Ingresses by condition and status",
                ),
                &["kind", "condition", "status"],
            )?,
            leader: IntGauge::new(
                "wsgate_controller_leader",
                "1 while this replica holds the leader Lease",
            )?,
            write_errors: IntCounterVec::new(
                Opts::new(
                    "wsgate_controller_write_errors_total",
                    "Failed status, Event and Lease writes",
                ),
                &["what"],
            )?,
        };
        registry.register(Box::new(m.watch_events.clone()))?;
        registry.register(Box::new(m.watch_errors.clone()))?;
        registry.register(Box::new(m.malformed_objects.clone()))?;
        registry.register(Box::new(m.rebuilds.clone()))?;
        registry.register(Box::new(m.rebuild_seconds.clone()))?;
        registry.register(Box::new(m.objects_by_condition.clone()))?;
        registry.register(Box::new(m.leader.clone()))?;
        registry.register(Box::new(m.write_errors.clone()))?;
        Ok(m)
    }
}
