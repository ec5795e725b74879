//! Metrics of the TLS listener and the certificates in force.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// TLS metrics, registered on the data plane's registry.
#[derive(Clone)]
pub struct TlsMetrics {
    /// Handshakes on the TLS listener by result (`ok`, `unrecognized_name`, ...) and version.
    pub handshakes: IntCounterVec,
    /// Time from the first ClientHello byte to a finished handshake, by version.
    pub handshake_seconds: HistogramVec,
    /// `notAfter` of the certificate served for each host (`*` for the default certificate).
    pub certificate_expiry: IntGaugeVec,
    /// Certificates of the route table that could not be used, by route.
    pub certificate_errors: IntGaugeVec,
}

impl TlsMetrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            handshakes: IntCounterVec::new(
                Opts::new(
                    "wsgate_tls_handshakes_total",
                    "TLS handshakes on the TLS listener by result and protocol version",
                ),
                &["result", "version"],
            )?,
            handshake_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "wsgate_tls_handshake_duration_seconds",
                    "Time from the client's first TLS byte to a completed handshake",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                ]),
                &["version"],
            )?,
            certificate_expiry: IntGaugeVec::new(
                Opts::new(
                    "wsgate_certificate_expiry_timestamp_seconds",
                    "Expiry (notAfter, Unix seconds) of the certificate served for a host",
                ),
                &["host"],
            )?,
            certificate_errors: IntGaugeVec::new(
                Opts::new(
                    "wsgate_certificate_errors",
                    "1 for a route whose certificate in the route table cannot be used",
                ),
                &["route"],
            )?,
        };
        registry.register(Box::new(m.handshakes.clone()))?;
        registry.register(Box::new(m.handshake_seconds.clone()))?;
        registry.register(Box::new(m.certificate_expiry.clone()))?;
        registry.register(Box::new(m.certificate_errors.clone()))?;
        Ok(m)
    }
}
