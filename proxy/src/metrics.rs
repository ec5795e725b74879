//! Prometheus metrics of the data plane, registered on an explicit [`Registry`].

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Every data-plane metric. Cheap to clone (handles are reference counted).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket tunnels per route.
    pub active_connections: IntGaugeVec,
    /// WebSocket handshakes by route and result.
    pub handshakes: IntCounterVec,
    /// Time from request to `101` sent, per route.
    pub handshake_seconds: HistogramVec,
    /// Plain HTTP requests by route and status code.
    pub http_requests: IntCounterVec,
    /// Requests refused or failed by wsgate, by reason (no_route, bad_handshake, ...).
    pub errors: IntCounterVec,
    /// WebSocket messages by route and direction.
    pub messages: IntCounterVec,
    /// WebSocket bytes (frames on the wire) by route and direction.
    pub bytes: IntCounterVec,
    /// Closed tunnels by route and reason.
    pub closes: IntCounterVec,
    /// Tunnel lifetime per route.
    pub connection_seconds: HistogramVec,
    /// Active WebSocket tunnels plus in-flight HTTP requests per endpoint.
    pub endpoint_active: IntGaugeVec,
    /// Requests and WebSocket handshakes sent to each endpoint.
    pub endpoint_requests: IntCounterVec,
    /// Times an endpoint was ejected after a failed or timed-out connect.
    pub endpoint_ejections: IntCounterVec,
    /// Affinity lookups by type (cookie, header, query, client_ip, socketio) and result
    /// (hit, miss).
    pub affinity: IntCounterVec,
    /// Requests retried on another endpoint after a failed connect, per route.
    pub retries: IntCounterVec,
    /// Version of the route table in force.
    pub table_version: IntGauge,
    /// Route-table loads by result (applied, rejected).
    pub table_reloads: IntCounterVec,
    /// Time to build the data plane's index from a new table.
    pub table_apply_seconds: Histogram,
    /// TLS listener and certificate metrics.
    pub tls: crate::tls::TlsMetrics,
    /// Handshake security: Origin, auth and limit refusals, replay-store failures.
    pub security: crate::policy::metrics::SecurityMetrics,
}

impl Metrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let route = &["route"];
        let m = Self {
            registry: registry.clone(),
            active_connections: IntGaugeVec::new(
                Opts::new("wsgate_active_connections", "Open WebSocket connections"),
                route,
            )?,
            handshakes: IntCounterVec::new(
                Opts::new("wsgate_handshakes_total", "WebSocket handshakes by result"),
                &["route", "result"],
            )?,
            handshake_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "wsgate_handshake_duration_seconds",
                    "Time from the client's upgrade request to the 101 response",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ]),
                route,
            )?,
            http_requests: IntCounterVec::new(
                Opts::new(
                    "wsgate_http_requests_total",
                    "Proxied HTTP requests by status code",
                ),
                &["route", "code"],
            )?,
            errors: IntCounterVec::new(
                Opts::new(
                    "wsgate_request_errors_total",
                    "Requests answered by wsgate with an error, by reason",
                ),
                &["reason"],
            )?,
            messages: IntCounterVec::new(
                Opts::new("wsgate_messages_total", "WebSocket messages relayed"),
                &["route", "direction"],
            )?,
            bytes: IntCounterVec::new(
                Opts::new(
                    "wsgate_bytes_total",
                    "WebSocket bytes relayed (frames as on the wire)",
                ),
                &["route", "direction"],
            )?,
            closes: IntCounterVec::new(
                Opts::new(
                    "wsgate_connections_closed_total",
                    "Closed WebSocket connections by reason",
                ),
                &["route", "reason"],
            )?,
            connection_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "wsgate_connection_duration_seconds",
                    "WebSocket connection lifetime",
                )
                .buckets(vec![
                    1.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0,
                ]),
                route,
            )?,
            endpoint_active: IntGaugeVec::new(
                Opts::new(
                    "wsgate_endpoint_active",
                    "Open WebSocket connections plus in-flight HTTP requests per endpoint",
                ),
                &["endpoint"],
            )?,
            endpoint_requests: IntCounterVec::new(
                Opts::new(
                    "wsgate_endpoint_requests_total",
                    "HTTP requests and WebSocket handshakes sent to each endpoint",
                ),
                &["endpoint"],
            )?,
            endpoint_ejections: IntCounterVec::new(
                Opts::new(
                    "wsgate_endpoint_ejections_total",
                    "Endpoints taken out of balancing after a failed connect",
                ),
                &["endpoint"],
            )?,
            affinity: IntCounterVec::new(
                Opts::new(
                    "wsgate_affinity_total",
                    "Session affinity lookups by type and result (hit, miss)",
                ),
                &["type", "result"],
            )?,
            retries: IntCounterVec::new(
                Opts::new(
                    "wsgate_retries_total",
                    "Requests retried on another endpoint after a failed connect",
                ),
                &["route"],
            )?,
            table_version: IntGauge::new(
                "wsgate_route_table_version",
                "Version of the route table in force",
            )?,
            table_reloads: IntCounterVec::new(
                Opts::new(
                    "wsgate_route_table_reloads_total",
                    "Route table loads by result",
                ),
                &["result"],
            )?,
            table_apply_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "wsgate_route_table_apply_seconds",
                    "Time to apply a new route table",
                )
                .buckets(vec![0.0001, 0.001, 0.01, 0.1, 1.0]),
            )?,
            tls: crate::tls::TlsMetrics::new(registry)?,
            security: crate::policy::metrics::SecurityMetrics::new(registry)?,
        };
        registry.register(Box::new(m.active_connections.clone()))?;
        registry.register(Box::new(m.handshakes.clone()))?;
        registry.register(Box::new(m.handshake_seconds.clone()))?;
        registry.register(Box::new(m.http_requests.clone()))?;
        registry.register(Box::new(m.errors.clone()))?;
        registry.register(Box::new(m.messages.clone()))?;
        registry.register(Box::new(m.bytes.clone()))?;
        registry.register(Box::new(m.closes.clone()))?;
        registry.register(Box::new(m.connection_seconds.clone()))?;
        registry.register(Box::new(m.endpoint_active.clone()))?;
        registry.register(Box::new(m.endpoint_requests.clone()))?;
        registry.register(Box::new(m.endpoint_ejections.clone()))?;
        registry.register(Box::new(m.affinity.clone()))?;
        registry.register(Box::new(m.retries.clone()))?;
        registry.register(Box::new(m.table_version.clone()))?;
        registry.register(Box::new(m.table_reloads.clone()))?;
        registry.register(Box::new(m.table_apply_seconds.clone()))?;
        Ok(m)
    }

    /// The registry these metrics live on (other components register theirs there too).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Renders every metric of the registry in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed families; an error yields what was written.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Drops the per-endpoint series of an endpoint nobody uses any more.
    pub fn forget_endpoint(&self, endpoint: &str) {
        let _ = self.endpoint_active.remove_label_values(&[endpoint]);
        let _ = self.endpoint_requests.remove_label_values(&[endpoint]);
        let _ = self.endpoint_ejections.remove_label_values(&[endpoint]);
    }

    /// Counter handles for one tunnel, resolved once so the relay loop only adds.
    pub fn tunnel_counters(&self, route: &str) -> TunnelCounters {
        TunnelCounters {
            messages_up: self
                .messages
                .with_label_values(&[route, "client_to_backend"]),
            messages_down: self
                .messages
                .with_label_values(&[route, "backend_to_client"]),
            bytes_up: self.bytes.with_label_values(&[route, "client_to_backend"]),
            bytes_down: self.bytes.with_label_values(&[route, "backend_to_client"]),
        }
    }
}

/// Pre-resolved per-tunnel counters.
#[derive(Clone)]
pub struct TunnelCounters {
    /// Messages client to backend.
    pub messages_up: IntCounter,
    /// Messages backend to client.
    pub messages_down: IntCounter,
    /// Bytes client to backend.
    pub bytes_up: IntCounter,
    /// Bytes backend to client.
    pub bytes_down: IntCounter,
}

impl wsgate_tunnel::Meter for TunnelCounters {
    fn record(&self, t: wsgate_tunnel::Traffic) {
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
