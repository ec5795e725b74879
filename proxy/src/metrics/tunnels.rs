//! Metrics of WebSocket tunnels: open connections, traffic, message sizes, closes and
//! lifetimes.

use std::sync::Arc;

use prometheus::{HistogramVec, IntCounter, IntCounterVec, IntGaugeVec};
use wsgate_tunnel::{Meter, Traffic};

use super::labels::{LiveSeries, prune, route_labels};
use super::register::{Made, Registrar};
use super::sizes::{MessageSizes, SizeSeries};

/// Tunnel metrics per route.
#[derive(Clone)]
pub struct TunnelMetrics {
    /// Open WebSocket tunnels per route and endpoint.
    pub active: IntGaugeVec,
    /// WebSocket messages by route and direction.
    pub messages: IntCounterVec,
    /// WebSocket bytes (frames on the wire) by route and direction.
    pub bytes: IntCounterVec,
    /// Message sizes by route and direction.
    pub sizes: MessageSizes,
    /// Closed tunnels by route, reason and close code.
    pub closes: IntCounterVec,
    /// Tunnel lifetime per route.
    pub duration: HistogramVec,
}

/// Label names of series per route and direction.
const DIRECTION: &[&str] = &["namespace", "route", "direction"];
const UP: &str = "client_to_backend";
const DOWN: &str = "backend_to_client";

impl TunnelMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        let sizes = MessageSizes::new()?;
        r.0.register(Box::new(sizes.clone()))?;
        Ok(Self {
            active: r.gauges(
                "wsgate_active_connections",
                "Open WebSocket connections per route and endpoint",
                &["namespace", "route", "endpoint"],
            )?,
            messages: r.counter(
                "wsgate_messages_total",
                "WebSocket messages relayed",
                DIRECTION,
            )?,
            bytes: r.counter(
                "wsgate_bytes_total",
                "WebSocket bytes relayed (frames as on the wire)",
                DIRECTION,
            )?,
            sizes,
            closes: r.counter(
                "wsgate_connections_closed_total",
                "Closed WebSocket connections by reason and the code of the first close frame \
                 (empty when the connection ended without one)",
                &["namespace", "route", "reason", "code"],
            )?,
            duration: r.histograms(
                "wsgate_connection_duration_seconds",
                "WebSocket connection lifetime",
                &["namespace", "route"],
                &[1.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0],
            )?,
        })
    }

    /// Counter handles for one tunnel, resolved once so the relay loop only adds.
    pub fn counters(&self, route: &str) -> TunnelCounters {
        let [ns, name] = route_labels(route);
        TunnelCounters {
            messages_up: self.messages.with_label_values(&[ns, name, UP]),
            messages_down: self.messages.with_label_values(&[ns, name, DOWN]),
            bytes_up: self.bytes.with_label_values(&[ns, name, UP]),
            bytes_down: self.bytes.with_label_values(&[ns, name, DOWN]),
            sizes_up: self.sizes.series(ns, name, UP),
            sizes_down: self.sizes.series(ns, name, DOWN),
        }
    }

    /// Drops the series of routes and endpoints that left the table (open connections'
    /// gauges stay until they close).
    pub fn prune(&self, live: &LiveSeries) {
        prune(&self.active, live, true);
        prune(&self.messages, live, false);
        prune(&self.bytes, live, false);
        prune(&self.closes, live, false);
        prune(&self.duration, live, false);
        self.sizes.prune(live);
    }
}

/// Pre-resolved per-tunnel counters.
#[derive(Clone)]
pub struct TunnelCounters {
    messages_up: IntCounter,
    messages_down: IntCounter,
    bytes_up: IntCounter,
    bytes_down: IntCounter,
    sizes_up: Arc<SizeSeries>,
    sizes_down: Arc<SizeSeries>,
}

impl Meter for TunnelCounters {
    fn record(&self, t: Traffic) {
        for (counter, n) in [
            (&self.messages_up, t.messages_up),
            (&self.messages_down, t.messages_down),
            (&self.bytes_up, t.bytes_up),
            (&self.bytes_down, t.bytes_down),
        ] {
            if n > 0 {
                counter.inc_by(n);
            }
        }
        if t.messages_up > 0 {
            self.sizes_up.add(&t.sizes_up);
        }
        if t.messages_down > 0 {
            self.sizes_down.add(&t.sizes_down);
        }
    }
}
