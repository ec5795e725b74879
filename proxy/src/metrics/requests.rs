//! Metrics of requests and handshakes as the request path sees them, and of the route table.

use prometheus::{Gauge, Histogram, HistogramVec, IntCounterVec, IntGauge};

use super::labels::{LiveSeries, prune};

use super::register::{Made, Registrar};

/// Handshakes, HTTP requests, errors, retries and affinity lookups.
#[derive(Clone)]
pub struct RequestMetrics {
    /// WebSocket handshakes by route and result.
    pub handshakes: IntCounterVec,
    /// Time from request to `101` sent, per route.
    pub handshake_seconds: HistogramVec,
    /// Plain HTTP requests by route and status code.
    pub http_requests: IntCounterVec,
    /// Requests refused or failed by wsgate, by reason (no_route, bad_handshake, ...).
    pub errors: IntCounterVec,
    /// Requests retried on another endpoint after a failed connect, per route.
    pub retries: IntCounterVec,
    /// Affinity lookups by type (cookie, header, query, client_ip, socketio) and result.
    pub affinity: IntCounterVec,
}

impl RequestMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        Ok(Self {
            handshakes: r.counter(
                "wsgate_handshakes_total",
                "WebSocket handshakes by result",
                &["namespace", "route", "result"],
            )?,
            handshake_seconds: r.histograms(
                "wsgate_handshake_duration_seconds",
                "Time from the client's upgrade request to the 101 response",
                &["namespace", "route"],
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            )?,
            http_requests: r.counter(
                "wsgate_http_requests_total",
                "Proxied HTTP requests by status code",
                &["namespace", "route", "code"],
            )?,
            errors: r.counter(
                "wsgate_request_errors_total",
                "Requests answered by wsgate with an error, by reason",
                &["reason"],
            )?,
            retries: r.counter(
                "wsgate_retries_total",
                "Requests retried on another endpoint after a failed connect",
                &["namespace", "route"],
            )?,
            affinity: r.counter(
                "wsgate_affinity_lookups_total",
                "Session affinity lookups by type and result (hit, miss)",
                &["type", "result"],
            )?,
        })
    }

    /// Drops the series of routes that left the table.
    pub fn prune(&self, live: &LiveSeries) {
        prune(&self.handshakes, live, false);
        prune(&self.handshake_seconds, live, false);
        prune(&self.http_requests, live, false);
        prune(&self.retries, live, false);
    }
}

/// The route table in force and its loads.
#[derive(Clone)]
pub struct TableMetrics {
    /// Version of the route table in force.
    pub version: IntGauge,
    /// Route-table loads by result (applied, rejected).
    pub reloads: IntCounterVec,
    /// Time to build the data plane's index from a new table.
    pub apply_seconds: Histogram,
    /// When the table in force was applied (Unix seconds).
    pub applied_at: Gauge,
}

impl TableMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        Ok(Self {
            version: r.gauge(
                "wsgate_route_table_version",
                "Version of the route table in force",
            )?,
            reloads: r.counter(
                "wsgate_route_table_reloads_total",
                "Route table loads by result",
                &["result"],
            )?,
            apply_seconds: r.histogram(
                "wsgate_route_table_apply_seconds",
                "Time to apply a new route table",
                &[0.0001, 0.001, 0.01, 0.1, 1.0],
            )?,
            applied_at: r.add(Gauge::new(
                "wsgate_route_table_last_applied_timestamp_seconds",
                "When the route table in force was applied (Unix seconds)",
            )?)?,
        })
    }
}
