//! Metrics of WebSocket tunnels: open connections, traffic, closes and lifetimes.

use prometheus::{HistogramVec, IntCounter, IntCounterVec, IntGaugeVec};
use wsgate_tunnel::{Meter, Traffic};

use super::register::{Made, Registrar};

/// Tunnel metrics per route.
#[derive(Clone)]
pub struct TunnelMetrics {
    /// Open WebSocket tunnels per route.
    pub active: IntGaugeVec,
    /// WebSocket messages by route and direction.
    pub messages: IntCounterVec,
    /// WebSocket bytes (frames on the wire) by route and direction.
    pub bytes: IntCounterVec,
    /// Closed tunnels by route and reason.
    pub closes: IntCounterVec,
    /// Tunnel lifetime per route.
    pub duration: HistogramVec,
}

impl TunnelMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        let direction = &["route", "direction"];
        Ok(Self {
            active: r.gauges(
                "wsgate_active_connections",
                "Open WebSocket connections",
                &["route"],
            )?,
            messages: r.counter(
                "wsgate_messages_total",
                "WebSocket messages relayed",
                direction,
            )?,
            bytes: r.counter(
                "wsgate_bytes_total",
                "WebSocket bytes relayed (frames as on the wire)",
                direction,
            )?,
            closes: r.counter(
                "wsgate_connections_closed_total",
                "Closed WebSocket connections by reason",
                &["route", "reason"],
            )?,
            duration: r.histograms(
                "wsgate_connection_duration_seconds",
                "WebSocket connection lifetime",
                &["route"],
                &[1.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0],
            )?,
        })
    }

    /// Counter handles for one tunnel, resolved once so the relay loop only adds.
    pub fn counters(&self, route: &str) -> TunnelCounters {
        let (up, down) = ("client_to_backend", "backend_to_client");
        TunnelCounters {
            messages_up: self.messages.with_label_values(&[route, up]),
            messages_down: self.messages.with_label_values(&[route, down]),
            bytes_up: self.bytes.with_label_values(&[route, up]),
            bytes_down: self.bytes.with_label_values(&[route, down]),
        }
    }
}

/// Pre-resolved per-tunnel counters.
#[derive(Clone)]
pub struct TunnelCounters {
    messages_up: IntCounter,
    messages_down: IntCounter,
    bytes_up: IntCounter,
    bytes_down: IntCounter,
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
    }
}
