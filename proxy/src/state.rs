//! The data plane's state: what every connection shares, below the request pipeline. It
//! holds the table-derived snapshots (router, certificates), live state that outlives a
//! table (endpoints, sessions, limits, replay, pool), and the process signals; each step of
//! a request is handed only the parts it reads.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wsgate_core::table::security::ListenerOptions;
use wsgate_core::table::shared::SharedState;
use wsgate_core::table::{Backend, RouteTable};

use crate::admin::refusals::RecentRefusals;
use crate::balance::endpoint::EndpointRegistry;
use crate::balance::sessions::{SessionStore, SharedSessions};
use crate::metrics::{LiveSeries, Metrics};
use crate::policy::admit::Security;
use crate::relay::Tunnels;
use crate::route::Router;
use crate::route_metrics::RouteHealth;
use crate::shared::Shared;
use crate::tls::store::{CertStore, TlsBase};
use crate::upstream::pool::Pool;

/// What the last close of a drain needs: the tunnel's close grace (5 s) and a margin.
const CLOSE_HANDSHAKE_TIME: Duration = Duration::from_secs(6);

/// State shared by every connection of the data plane.
pub struct State {
    /// The router in force; swapped whole on a table change.
    pub router: Arc<ArcSwap<Router>>,
    /// Certificates of the table in force, by SNI name; swapped with the router.
    pub certs: ArcSwap<CertStore>,
    /// What every TLS configuration shares (ticket key, session cache); `None` if the
    /// system could not provide randomness for a ticket key.
    tls_base: Option<TlsBase>,
    /// Live endpoint state (counts, health, drain), kept across tables.
    pub endpoints: EndpointRegistry,
    /// Socket.IO sessions learned from handshakes, kept across tables.
    pub sessions: Arc<SessionStore>,
    /// Idle upstream connections.
    pub pool: Arc<Pool>,
    /// Limits, replay state and trusted proxies of handshake security.
    pub security: Security,
    /// PROXY protocol and request-head limits of the listeners.
    pub listener: ListenerOptions,
    /// Open tunnels (waited for on shutdown).
    pub tunnels: Tunnels,
    /// Metrics.
    pub metrics: Metrics,
    /// Cancelled when wsgate begins to shut down.
    pub shutdown: CancellationToken,
    /// Cancelled when draining begins (`/drain` on the admin listener, or the shutdown, whose
    /// child it is): every WebSocket is closed over the drain period and new requests are
    /// refused with 503.
    pub draining: CancellationToken,
    /// Longest wait for the WebSockets to close once draining began.
    pub drain_timeout: Duration,
    /// The last refused requests (the admin page shows them).
    pub refusals: RecentRefusals,
    /// Set once a first table is applied.
    ready: AtomicBool,
}

impl State {
    /// Fresh state with no routes; a drain (or shutdown) waits up to `drain_timeout` for the
    /// WebSockets, whose closes are spread over all of it but the close handshake's time;
    /// what replicas share goes through `shared`.
    pub fn new(
        metrics: Metrics,
        listener: ListenerOptions,
        shared: &SharedState,
        shutdown: CancellationToken,
        drain_timeout: Duration,
    ) -> Self {
        let shared = Shared::new(shared, metrics.registry());
        // Leave time after the last close for the close handshake to finish.
        let spread = drain_timeout.saturating_sub(CLOSE_HANDSHAKE_TIME);
        let draining = shutdown.child_token();
        let router = Arc::new(ArcSwap::from_pointee(Router::empty()));
        let health =
            RouteHealth::new(router.clone()).and_then(|c| metrics.registry().register(Box::new(c)));
        if let Err(e) = health {
            tracing::error!(error = %e, "endpoint health metrics unavailable");
        }
        Self {
            router,
            certs: ArcSwap::from_pointee(CertStore::default()),
            tls_base: TlsBase::new()
                .inspect_err(|e| tracing::error!(error = %e, "TLS unavailable: cannot create a session ticket key"))
                .ok(),
            endpoints: EndpointRegistry::new(draining.clone(), metrics.endpoints.clone()),
            sessions: Arc::new(SessionStore::with_remote(
                shared.redis().cloned().map(SharedSessions::new),
            )),
            pool: Arc::default(),
            security: Security::new(listener.trusted_proxies.clone(), shared),
            listener,
            tunnels: Tunnels::new(metrics.tunnels.clone(), draining.clone(), spread),
            metrics,
            shutdown,
            draining,
            drain_timeout,
            refusals: RecentRefusals::default(),
            ready: AtomicBool::new(false),
        }
    }

    /// Builds and installs the router and certificates for `table`; endpoints that left it
    /// drain. Version 0 means "no table yet".
    pub fn apply(&self, table: &RouteTable) {
        if table.version == 0 {
            return;
        }
        let started = Instant::now();
        let router = Router::build(table, &self.endpoints, &self.listener.cookie_secret);
        self.security.check_table(table);
        let live = endpoints_of(table);
        self.endpoints.retain(&live);
        self.sessions.forget_endpoints_not_in(&live);
        self.pool.retain(&live);
        if let Some(base) = &self.tls_base {
            let certs = CertStore::build(table, &self.certs.load(), base, &self.metrics.tls);
            self.certs.store(Arc::new(certs));
        }
        let m = &self.metrics.table;
        // Counted here, for routes files and the controller alike; a rejected file is
        // counted by its loader (the controller refuses objects, never a whole table).
        m.reloads.with_label_values(&["applied"]).inc();
        self.router.store(Arc::new(router));
        self.metrics.prune(&live_series(table, &live));
        m.version
            .set(i64::try_from(table.version).unwrap_or(i64::MAX));
        m.apply_seconds.observe(started.elapsed().as_secs_f64());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        m.applied_at.set(now.map_or(0.0, |d| d.as_secs_f64()));
        self.ready.store(true, Ordering::Release);
        let hosts: HashSet<_> = table
            .routes
            .iter()
            .flat_map(|r| r.hostnames.iter())
            .collect();
        tracing::info!(
            version = table.version,
            routes = table.routes.len(),
            hosts = hosts.len(),
            endpoints = live.len(),
            certificates = table.routes.iter().filter(|r| r.tls.is_some()).count(),
            "route table applied"
        );
    }

    /// True once a table is in force and no drain or shutdown has begun.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && !self.draining.is_cancelled()
    }

    /// Applies every table published on `tables` until shutdown.
    pub async fn follow(self: Arc<Self>, mut tables: watch::Receiver<Arc<RouteTable>>) {
        loop {
            let table = tables.borrow_and_update().clone();
            self.apply(&table);
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                changed = tables.changed() => if changed.is_err() { return },
            }
        }
    }
}

/// The routes and endpoints whose metric series stay.
fn live_series(table: &RouteTable, endpoints: &HashSet<std::net::SocketAddr>) -> LiveSeries {
    LiveSeries {
        routes: table.routes.iter().map(|r| r.id.to_string()).collect(),
        endpoints: endpoints.iter().map(ToString::to_string).collect(),
    }
}

/// Every endpoint address the table names.
fn endpoints_of(table: &RouteTable) -> HashSet<std::net::SocketAddr> {
    table
        .routes
        .iter()
        .flat_map(|r| r.rules.iter())
        .filter_map(|rule| match &rule.backend {
            Backend::Endpoints(eps) => Some(eps.iter().map(|e| e.addr)),
            Backend::Invalid { .. } | Backend::Misconfigured { .. } => None,
        })
        .flatten()
        .collect()
}
