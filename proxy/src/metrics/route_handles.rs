//! A route's metric handles for WebSockets, resolved on the route's first upgrade and kept
//! with the route for the life of its table: a handshake and a tunnel then only add to them,
//! instead of hashing labels under a lock about nine times per connection.

use prometheus::{Histogram, IntCounter};
use wsgate_tunnel::{Meter, Traffic};

use super::labels::route_labels;
use super::requests::RequestMetrics;
use super::tunnels::{TunnelCounters, TunnelMetrics};

/// Handles of one route.
pub struct RouteHandles {
    /// Handshakes that ended in `101` (`wsgate_handshakes_total`, outcome `upgraded`).
    pub upgraded: IntCounter,
    /// Handshake duration.
    pub handshake_seconds: Histogram,
    /// Tunnel lifetime.
    pub duration: Histogram,
    /// Messages and bytes both ways.
    traffic: TunnelCounters,
}

impl RouteHandles {
    /// Resolves the handles of route `label`.
    pub fn new(requests: &RequestMetrics, tunnels: &TunnelMetrics, label: &str) -> Self {
        let [ns, name] = route_labels(label);
        Self {
            upgraded: requests
                .handshakes
                .with_label_values(&[ns, name, "upgraded"]),
            handshake_seconds: requests.handshake_seconds.with_label_values(&[ns, name]),
            duration: tunnels.duration.with_label_values(&[ns, name]),
            traffic: tunnels.counters(label),
        }
    }
}

impl std::fmt::Debug for RouteHandles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouteHandles")
    }
}

impl Meter for RouteHandles {
    fn record(&self, traffic: Traffic) {
        self.traffic.record(traffic);
    }
}
