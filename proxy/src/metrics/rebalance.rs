//! Metrics of rebalancing: every close it makes, and how uneven each route's endpoints are.

use prometheus::{GaugeVec, IntCounterVec, Opts};

use super::labels::{LiveSeries, prune};
use super::register::{Made, Registrar};

/// Rebalancing metrics per route.
#[derive(Clone)]
pub struct RebalanceMetrics {
    /// Connections rebalancing closed, by route and the endpoint they were moved off.
    pub closes: IntCounterVec,
    /// The most loaded endpoint's connections over its fair share, per route.
    pub imbalance: GaugeVec,
}

impl RebalanceMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        Ok(Self {
            closes: r.counter(
                "wsgate_rebalance_closes_total",
                "WebSocket connections closed by rebalancing, by the endpoint they were moved off",
                &["namespace", "route", "endpoint"],
            )?,
            imbalance: r.add(GaugeVec::new(
                Opts::new(
                    "wsgate_rebalance_imbalance",
                    "Connections of the most loaded endpoint over its fair share (by weight and \
                     slow-start ramp), per route with rebalancing; 1 is even",
                ),
                &["namespace", "route"],
            )?)?,
        })
    }

    /// Drops the series of routes and endpoints that left the table.
    pub fn prune(&self, live: &LiveSeries) {
        prune(&self.closes, live, false);
        prune(&self.imbalance, live, false);
    }
}
