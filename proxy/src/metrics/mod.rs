//! Prometheus metrics of the data plane, on an explicit [`Registry`] passed in (never a
//! global), grouped by the step that records them.

mod endpoints;
mod labels;
mod process;
mod rebalance;
mod register;
mod requests;
mod route_handles;
mod security;
mod sizes;
mod tls;
mod tunnels;

pub use endpoints::EndpointMetrics;
pub use labels::{LiveSeries, label_pairs, route_labels};
pub use rebalance::RebalanceMetrics;
pub use requests::{RequestMetrics, TableMetrics};
pub use route_handles::RouteHandles;
pub use security::SecurityMetrics;
pub use tls::TlsMetrics;
pub use tunnels::TunnelMetrics;

use prometheus::{Encoder, Registry, TextEncoder};

use register::Registrar;

/// Every data-plane metric. Cheap to clone (handles are reference counted).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Handshakes, HTTP requests, errors, retries, affinity.
    pub(crate) requests: RequestMetrics,
    /// Open tunnels, traffic, closes.
    pub(crate) tunnels: TunnelMetrics,
    /// Load, requests and ejections per endpoint.
    pub(crate) endpoints: EndpointMetrics,
    /// The route table in force and its loads.
    pub(crate) table: TableMetrics,
    /// TLS listener and certificates.
    pub(crate) tls: TlsMetrics,
    /// Origin, auth and limit refusals, replay-store failures, connection preamble.
    pub(crate) security: SecurityMetrics,
    /// Closes made by rebalancing and the imbalance it sees.
    pub(crate) rebalance: RebalanceMetrics,
}

impl Metrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let r = Registrar(registry);
        process::register(registry)?;
        Ok(Self {
            registry: registry.clone(),
            requests: RequestMetrics::new(&r)?,
            tunnels: TunnelMetrics::new(&r)?,
            endpoints: EndpointMetrics::new(&r)?,
            table: TableMetrics::new(&r)?,
            tls: TlsMetrics::new(&r)?,
            security: SecurityMetrics::new(&r)?,
            rebalance: RebalanceMetrics::new(&r)?,
        })
    }

    /// Drops every series of a route or endpoint not in `live` (the table just applied),
    /// so label cardinality follows the table in force.
    pub fn prune(&self, live: &LiveSeries) {
        self.requests.prune(live);
        self.tunnels.prune(live);
        self.security.prune(live);
        self.rebalance.prune(live);
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
}
