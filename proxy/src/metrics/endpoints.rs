//! Metrics of backend endpoints: load, requests sent and ejections.

use prometheus::{IntCounterVec, IntGaugeVec};

use super::register::{Made, Registrar};

/// Endpoint metrics, labelled by `ip:port`.
#[derive(Clone)]
pub struct EndpointMetrics {
    /// Active WebSocket tunnels plus in-flight HTTP requests per endpoint.
    pub active: IntGaugeVec,
    /// Requests and WebSocket handshakes sent to each endpoint.
    pub requests: IntCounterVec,
    /// Times an endpoint was ejected after a failed or timed-out connect.
    pub ejections: IntCounterVec,
}

impl EndpointMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        let endpoint = &["endpoint"];
        Ok(Self {
            active: r.gauges(
                "wsgate_endpoint_active",
                "Open WebSocket connections plus in-flight HTTP requests per endpoint",
                endpoint,
            )?,
            requests: r.counter(
                "wsgate_endpoint_requests_total",
                "HTTP requests and WebSocket handshakes sent to each endpoint",
                endpoint,
            )?,
            ejections: r.counter(
                "wsgate_endpoint_ejections_total",
                "Endpoints taken out of balancing after a failed connect",
                endpoint,
            )?,
        })
    }

    /// Drops the series of an endpoint nobody uses any more.
    pub fn forget(&self, endpoint: &str) {
        let _ = self.active.remove_label_values(&[endpoint]);
        let _ = self.requests.remove_label_values(&[endpoint]);
        let _ = self.ejections.remove_label_values(&[endpoint]);
    }
}
