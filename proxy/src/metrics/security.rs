//! Metrics of handshake security and of the listeners' connection preamble.

use prometheus::IntCounterVec;

use super::labels::{LiveSeries, prune};
use super::register::{Made, Registrar};

/// Refusals by policy and failures of the ticket replay store.
#[derive(Clone)]
pub struct SecurityMetrics {
    /// Handshakes refused by the Origin policy, per route.
    pub origin_refusals: IntCounterVec,
    /// Handshakes refused by ticket or external auth, per route and reason.
    pub auth_refusals: IntCounterVec,
    /// Handshakes refused by a limit, per route and reason.
    pub limit_refusals: IntCounterVec,
    /// Replay-store failures (tickets refused meanwhile), by reason.
    pub ticket_store_errors: IntCounterVec,
    /// Connections dropped for a missing or malformed PROXY protocol header.
    pub proxy_protocol_errors: IntCounterVec,
    /// Connections closed for a request head too slow to arrive (408).
    pub header_timeouts: IntCounterVec,
}

impl SecurityMetrics {
    /// Creates and registers the group.
    pub fn new(r: &Registrar<'_>) -> Made<Self> {
        Ok(Self {
            origin_refusals: r.counter(
                "wsgate_origin_refusals_total",
                "Handshakes refused by the Origin policy",
                &["namespace", "route"],
            )?,
            auth_refusals: r.counter(
                "wsgate_auth_refusals_total",
                "Handshakes refused by authentication, by reason",
                &["namespace", "route", "reason"],
            )?,
            limit_refusals: r.counter(
                "wsgate_limit_refusals_total",
                "Handshakes refused by a limit, by reason",
                &["namespace", "route", "reason"],
            )?,
            ticket_store_errors: r.counter(
                "wsgate_ticket_store_errors_total",
                "Ticket replay-store failures (tickets are refused while the store is unavailable)",
                &["reason"],
            )?,
            proxy_protocol_errors: r.counter(
                "wsgate_proxy_protocol_errors_total",
                "Connections dropped for a bad PROXY protocol header",
                &["reason"],
            )?,
            header_timeouts: r.counter(
                "wsgate_header_timeouts_total",
                "Connections answered 408 because the request head was too slow",
                &["listener"],
            )?,
        })
    }
}

impl SecurityMetrics {
    /// Drops the series of routes that left the table.
    pub fn prune(&self, live: &LiveSeries) {
        prune(&self.origin_refusals, live, false);
        prune(&self.auth_refusals, live, false);
        prune(&self.limit_refusals, live, false);
    }
}
