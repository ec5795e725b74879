//! `wsgate controller --serve-tables ADDR`: route tables for `wsgate proxy --tables-from`
//! replicas (split mode), over HTTP/2 with mutual TLS. Only clients whose certificate chains
//! to `--tables-client-ca` are served: the stream carries private keys.
//!
//! ```text
//!  publish ─Arc<RouteTable>─> encoder (one JSON line per version) ─watch─> one stream per proxy
//! ```
//!
//! Every replica translates, so any replica can serve; the proxies need no Kubernetes API
//! access. Event format: [`crate::tables_event`].

mod stream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use wsgate_core::table::RouteTable;
use wsgate_core::table::wire::encode;

use crate::tables_event::table_line;
use crate::webhook::certs::CertFiles;

/// Time a client has for the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Interval of HTTP/2 pings to a proxy, and the time its answer may take.
const KEEPALIVE: Duration = Duration::from_secs(20);
/// How often the serving certificate files are checked for a rotation.
const CERT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Flags of the table server.
#[derive(Debug, Clone, Args)]
pub struct ServeTablesArgs {
    /// Serve route tables to `wsgate proxy --tables-from` replicas on this address (split
    /// mode), over HTTP/2 with mutual TLS; off when unset.
    #[arg(long, value_name = "ADDR")]
    pub serve_tables: Option<SocketAddr>,
    /// PEM certificate (chain) of the table server; re-read when it changes.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/etc/wsgate/tables/tls.crt"
    )]
    pub tables_tls_cert: PathBuf,
    /// PEM private key of the table server; re-read when it changes.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/etc/wsgate/tables/tls.key"
    )]
    pub tables_tls_key: PathBuf,
    /// PEM CA bundle a proxy's client certificate must chain to.
    #[arg(long, value_name = "PATH", default_value = "/etc/wsgate/tables/ca.crt")]
    pub tables_client_ca: PathBuf,
}

/// A bound table server with its TLS configuration.
pub struct TablesServer {
    /// The bound address.
    pub addr: SocketAddr,
    listener: TcpListener,
    certs: Arc<CertFiles>,
    tls: Arc<rustls::ServerConfig>,
    streams: prometheus::IntGauge,
}

impl TablesServer {
    /// Binds `--serve-tables`, loads the certificates and registers
    /// `wsgate_tables_streams`; `None` when it is not set.
    pub async fn bind(
        args: &ServeTablesArgs,
        registry: &prometheus::Registry,
    ) -> anyhow::Result<Option<Self>> {
        let Some(addr) = args.serve_tables else {
            return Ok(None);
        };
        let certs = CertFiles::load(&args.tables_tls_cert, &args.tables_tls_key)
            .context("--tables-tls-cert / --tables-tls-key")?;
        let tls = server_config(&certs, &args.tables_client_ca)?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the table server {addr}"))?;
        let streams = prometheus::IntGauge::new(
            "wsgate_tables_streams",
            "Proxies following this controller's route tables (open streams)",
        )?;
        registry.register(Box::new(streams.clone()))?;
        Ok(Some(Self {
            addr: listener.local_addr()?,
            listener,
            certs,
            tls,
            streams,
        }))
    }

    /// Serves `tables` until `stop`.
    pub fn spawn(self, tables: watch::Receiver<Arc<RouteTable>>, stop: &CancellationToken) {
        let instance: Arc<str> = Arc::from(format!("{:016x}", fastrand::u64(..)));
        tracing::info!(addr = %self.addr, %instance, "serving route tables to proxies (mutual TLS)");
        let (encoded_tx, encoded_rx) = watch::channel(Arc::new(stream::Encoded::default()));
        tokio::spawn(encoder(tables, encoded_tx, instance.clone(), stop.clone()));
        tokio::spawn(self.certs.follow(CERT_CHECK_INTERVAL, stop.clone()));
        let feed = stream::Feed {
            instance,
            tables: encoded_rx,
            streams: self.streams,
        };
        tokio::spawn(serve(self.listener, self.tls, feed, stop.clone()));
    }
}

/// TLS 1.2+ with ALPN `h2`, requiring a client certificate that chains to `ca`.
fn server_config(certs: &Arc<CertFiles>, ca: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let pem = std::fs::read(ca).with_context(|| format!("--tables-client-ca {}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.with_context(|| format!("{}: not a PEM certificate", ca.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("{}: not a CA certificate", ca.display()))?;
    }
    anyhow::ensure!(!roots.is_empty(), "{}: no certificate in it", ca.display());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("client certificate verifier")?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(certs.clone());
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Encodes each published table once, for every stream.
async fn encoder(
    mut tables: watch::Receiver<Arc<RouteTable>>,
    out: watch::Sender<Arc<stream::Encoded>>,
    instance: Arc<str>,
    stop: CancellationToken,
) {
    loop {
        let table = tables.borrow_and_update().clone();
        if table.version != 0 {
            match encode(&table) {
                Ok(json) => {
                    let line = table_line(&instance, table.version, &json);
                    out.send_replace(Arc::new(stream::Encoded {
                        version: table.version,
                        line: Bytes::from(line),
                    }));
                }
                Err(e) => {
                    tracing::error!(version = table.version, error = %e, "route table not sent to proxies: it cannot be encoded");
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = tables.changed() => if changed.is_err() { return },
        }
    }
}

async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    feed: stream::Feed,
    stop: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "table server accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (acceptor, feed, stop) = (acceptor.clone(), feed.clone(), stop.clone());
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    return tracing::warn!(client = %peer, error = %e, "table client refused (TLS)");
                }
                Err(_) => return,
            };
            let service = service_fn(move |req| stream::handle(feed.clone(), peer, req));
            // HTTP/2 pings find a proxy that vanished without closing its connection.
            let conn = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(KEEPALIVE))
                .keep_alive_timeout(KEEPALIVE)
                .serve_connection(TokioIo::new(tls), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.cancelled() => {}
            }
        });
    }
}
