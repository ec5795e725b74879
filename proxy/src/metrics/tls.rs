//! Metrics of the TLS listener and the certificates in force.

use prometheus::{HistogramVec, IntCounterVec, IntGaugeVec};

use super::register::{Made, Registrar};

/// TLS metrics.
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
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        Ok(Self {
            handshakes: r.counter(
                "wsgate_tls_handshakes_total",
                "TLS handshakes on the TLS listener by result and protocol version",
                &["result", "version"],
            )?,
            handshake_seconds: r.histograms(
                "wsgate_tls_handshake_duration_seconds",
                "Time from the client's first TLS byte to a completed handshake",
                &["version"],
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                ],
            )?,
            certificate_expiry: r.gauges(
                "wsgate_certificate_expiry_timestamp_seconds",
                "Expiry (notAfter, Unix seconds) of the certificate served for a host",
                &["host"],
            )?,
            certificate_errors: r.gauges(
                "wsgate_certificate_errors",
                "1 for a route whose certificate in the route table cannot be used",
                &["namespace", "route"],
            )?,
        })
    }
}
