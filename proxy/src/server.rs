//! Listeners: accept loops, HTTP/1.1 connections, and the task that turns published route
//! tables into the router requests read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::endpoint::EndpointRegistry;
use crate::handler::{ConnInfo, handle};
use crate::metrics::Metrics;
use crate::router::Router;
use crate::tls::{CertStore, TlsBase};
use crate::upstream::Pool;
use wsgate_core::table::RouteTable;

/// State shared by every connection of the data plane.
pub struct Shared {
    /// The router in force; swapped whole on a table change.
    pub router: ArcSwap<Router>,
    /// Metrics.
    pub metrics: Metrics,
    /// Idle upstream connections.
    pub pool: Pool,
    /// Live endpoint state.
    pub endpoints: EndpointRegistry,
    /// Cancelled when wsgate begins to shut down.
    pub shutdown: CancellationToken,
    /// Open tunnels (waited for on shutdown).
    pub tunnels: TaskTracker,
    /// Upper bound for spreading closes during a shutdown.
    pub shutdown_spread: Duration,
    /// Set once a first table is applied.
    pub ready: AtomicBool,
    /// Certificates of the table in force, by SNI name; swapped with the router.
    pub certs: ArcSwap<CertStore>,
    /// What every TLS configuration shares (ticket key, session cache); `None` if the
    /// system could not provide randomness for a ticket key.
    pub tls_base: Option<TlsBase>,
    /// Limits, replay state and listener settings of handshake security.
    pub security: crate::policy::Security,
}

impl Shared {
    /// Fresh state with no routes.
    pub fn new(metrics: Metrics, shutdown: CancellationToken, shutdown_spread: Duration) -> Self {
        Self {
            router: ArcSwap::from_pointee(Router::empty()),
            endpoints: EndpointRegistry::new(shutdown.clone(), metrics.clone()),
            metrics,
            pool: Pool::default(),
            shutdown,
            tunnels: TaskTracker::new(),
            shutdown_spread,
            ready: AtomicBool::new(false),
            certs: ArcSwap::from_pointee(CertStore::default()),
            tls_base: TlsBase::new()
                .inspect_err(|e| tracing::error!(error = %e, "TLS unavailable: cannot create a session ticket key"))
                .ok(),
            security: crate::policy::Security::default(),
        }
    }

    /// Builds and installs the router for `table`. Version 0 means "no table yet".
    pub fn apply(&self, table: &RouteTable) {
        if table.version == 0 {
            return;
        }
        let started = Instant::now();
        let router = Router::build(table, &self.endpoints);
        let live = table
            .routes
            .iter()
            .flat_map(|r| r.rules.iter())
            .filter_map(|rule| match &rule.backend {
                wsgate_core::table::Backend::Endpoints(eps) => Some(eps.iter().map(|e| e.addr)),
                wsgate_core::table::Backend::Invalid { .. } => None,
            })
            .flatten()
            .collect();
        self.pool.retain(&live);
        if let Some(base) = &self.tls_base {
            let certs = CertStore::build(table, &self.certs.load(), base, &self.metrics.tls);
            self.certs.store(Arc::new(certs));
        }
        self.router.store(Arc::new(router));
        self.metrics
            .table_version
            .set(i64::try_from(table.version).unwrap_or(i64::MAX));
        self.metrics
            .table_apply_seconds
            .observe(started.elapsed().as_secs_f64());
        self.ready.store(true, Ordering::Release);
        tracing::info!(
            version = table.version,
            routes = table.routes.len(),
            "route table applied"
        );
    }

    /// True once a table is in force and no shutdown has begun.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && !self.shutdown.is_cancelled()
    }
}

/// Applies every table published on `tables` until shutdown.
pub async fn follow_tables(shared: Arc<Shared>, mut tables: watch::Receiver<Arc<RouteTable>>) {
    loop {
        let table = tables.borrow_and_update().clone();
        shared.apply(&table);
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            changed = tables.changed() => if changed.is_err() { return },
        }
    }
}

/// Accepts plaintext connections on `listener` until shutdown.
pub async fn serve_plain(shared: Arc<Shared>, listener: TcpListener) {
    accept_loop(shared, listener, serve_plain_connection).await;
}

/// Accepts TLS connections on `listener` until shutdown: the handshake picks the
/// certificate by SNI from the table in force, then the connection is served as `https`.
pub async fn serve_tls(shared: Arc<Shared>, listener: TcpListener) {
    accept_loop(shared, listener, serve_tls_connection).await;
}

/// Accepts on `listener` until shutdown, serving each connection with `serve`; then waits
/// briefly for the connections' requests in flight.
async fn accept_loop<F, Fut>(shared: Arc<Shared>, listener: TcpListener, serve: F)
where
    F: Fn(Arc<Shared>, tokio::net::TcpStream, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and similar: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve(shared.clone(), stream, peer));
    }
    drop(listener);
    connections.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), connections.wait()).await;
}

/// PROXY header and first request head (see [`crate::policy::accept`]), then HTTP.
async fn serve_plain_connection(
    shared: Arc<Shared>,
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    use crate::policy::accept::{client_of, first_head};
    let Some(peer) = client_of(&shared, &mut stream, peer).await else {
        return;
    };
    let Some(io) = first_head(&shared, stream, peer, "http").await else {
        return;
    };
    serve_connection(shared, TokioIo::new(io), peer, "http").await;
}

/// PROXY header, TLS handshake, first request head, then HTTP as `https`.
async fn serve_tls_connection(
    shared: Arc<Shared>,
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    use crate::policy::accept::{client_of, first_head};
    let Some(peer) = client_of(&shared, &mut stream, peer).await else {
        return;
    };
    match crate::tls::accept(stream, &shared.certs, &shared.metrics.tls).await {
        Ok(tls) => {
            if let Some(io) = first_head(&shared, tls, peer, "https").await {
                serve_connection(shared, TokioIo::new(io), peer, "https").await;
            }
        }
        Err(e) => tracing::debug!(client = %peer, error = %e, "TLS handshake failed"),
    }
}

/// Serves one client connection (HTTP/1.1 with upgrades) to its end; on shutdown the
/// request in flight finishes and the keep-alive connection closes.
pub async fn serve_connection<I>(shared: Arc<Shared>, io: I, peer: SocketAddr, proto: &'static str)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let info = ConnInfo { peer, proto };
    let shutdown = shared.shutdown.clone();
    let head = shared.security.listener.head;
    let service = service_fn(move |req| handle(shared.clone(), req, info));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(head.read_timeout)
        .max_header_size(head.max_bytes)
        .max_headers(head.max_headers)
        .serve_connection(io, service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(client = %peer, error = %e, "client connection ended with an error");
    }
}
