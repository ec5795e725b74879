//! The certificates of one route table, indexed by host name for SNI: exact name first, then
//! the closest `*.` wildcard, then the default certificate (a TLS route with no hostnames).
//! Built once per table; handshakes only read it.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ProducesTickets, ServerSessionMemoryCache, StoresServerSessions};
use rustls::sign::SingleCertAndKey;

use crate::metrics::TlsMetrics;
use wsgate_core::cert::{ParsedCert, parse};
use wsgate_core::table::{HostMatch, RouteTable, TlsCert, TlsVersion};

/// TLS sessions remembered for resumption by session ID (TLS 1.2).
const SESSION_CACHE_SIZE: usize = 4096;

/// What every server configuration shares across table changes, so that a ticket or session
/// issued before a certificate change still resumes after it.
pub struct TlsBase {
    provider: Arc<CryptoProvider>,
    ticketer: Arc<dyn ProducesTickets>,
    sessions: Arc<dyn StoresServerSessions>,
}

impl TlsBase {
    /// The ring provider with a fresh ticket key (rotated by rustls every 6 hours).
    pub fn new() -> Result<Self, rustls::Error> {
        Ok(Self {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            ticketer: rustls::crypto::ring::Ticketer::new()?,
            sessions: ServerSessionMemoryCache::new(SESSION_CACHE_SIZE),
        })
    }

    /// The crypto provider (for parsing keys).
    pub fn provider(&self) -> &CryptoProvider {
        &self.provider
    }

    /// A server configuration for one certificate: TLS 1.2+1.3 (or 1.3 only), the provider's
    /// AEAD-only suites, ALPN `http/1.1`, tickets and session IDs on.
    pub fn server_config(
        &self,
        cert: &ParsedCert,
        min_version: TlsVersion,
    ) -> Result<ServerConfig, rustls::Error> {
        let versions: &[&rustls::SupportedProtocolVersion] = match min_version {
            TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
            TlsVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(cert.key.clone())));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.ticketer = self.ticketer.clone();
        config.session_storage = self.sessions.clone();
        Ok(config)
    }
}

/// Server configurations by SNI name for one route table.
#[derive(Default)]
pub struct CertStore {
    exact: HashMap<String, Arc<ServerConfig>>,
    /// Keyed by suffix: `*.example.com` is stored as `.example.com`.
    wildcard: HashMap<String, Arc<ServerConfig>>,
    default: Option<Arc<ServerConfig>>,
    /// Every distinct certificate with its configuration and expiry, reused by the next
    /// table when unchanged (tables change often in a cluster; certificates rarely do).
    built: Vec<Built>,
    /// Some route redirects plain HTTP to https.
    redirects: bool,
}

struct Built {
    cert: Arc<TlsCert>,
    config: Arc<ServerConfig>,
    not_after: Option<i64>,
}

impl CertStore {
    /// Builds the store for `table`, reusing what `previous` built for unchanged
    /// certificates. A certificate that cannot be used is logged, counted in
    /// `wsgate_certificate_errors` and skipped; its hosts then fail the handshake.
    pub fn build(
        table: &RouteTable,
        previous: &CertStore,
        base: &TlsBase,
        metrics: &TlsMetrics,
    ) -> Self {
        let mut store = Self {
            redirects: table.routes.iter().any(|r| r.policy.redirect_http),
            ..Self::default()
        };
        metrics.certificate_expiry.reset();
        metrics.certificate_errors.reset();
        for route in table.routes.iter() {
            let Some(cert) = &route.tls else { continue };
            let label = route.id.to_string();
            match store.config_for(cert, previous, base) {
                Ok((config, not_after)) => store.insert(route, &label, config, not_after, metrics),
                Err(e) => {
                    tracing::error!(route = %label, error = %e, "certificate not usable; its hosts fail the TLS handshake");
                    metrics
                        .certificate_errors
                        .with_label_values(&crate::metrics::route_labels(&label))
                        .set(1);
                }
            }
        }
        store
    }

    /// The configuration for `cert`: shared with an earlier route of this table or taken
    /// from the previous table when the material is the same, else built.
    fn config_for(
        &mut self,
        cert: &Arc<TlsCert>,
        previous: &CertStore,
        base: &TlsBase,
    ) -> Result<(Arc<ServerConfig>, Option<i64>), String> {
        if let Some(b) = self.built.iter().find(|b| b.cert == *cert) {
            return Ok((b.config.clone(), b.not_after));
        }
        let (config, not_after) = match previous.built.iter().find(|b| b.cert == *cert) {
            Some(b) => (b.config.clone(), b.not_after),
            None => configure(cert, base)?,
        };
        self.built.push(Built {
            cert: cert.clone(),
            config: config.clone(),
            not_after,
        });
        Ok((config, not_after))
    }

    fn insert(
        &mut self,
        route: &wsgate_core::table::Route,
        label: &str,
        config: Arc<ServerConfig>,
        not_after: Option<i64>,
        metrics: &TlsMetrics,
    ) {
        let mut hosts = Vec::new();
        if route.hostnames.is_empty() {
            // The earliest catch-all route wins, as it does for routing.
            if self.default.is_none() {
                self.default = Some(config.clone());
                hosts.push("*".to_string());
            }
        }
        for host in route.hostnames.iter() {
            let (map, key, shown) = match host {
                HostMatch::Exact(h) => (&mut self.exact, h.clone(), h.clone()),
                HostMatch::Wildcard(suffix) => {
                    (&mut self.wildcard, suffix.clone(), format!("*{suffix}"))
                }
            };
            if map.contains_key(&key) {
                tracing::warn!(route = %label, host = %shown, "host already has a certificate from an earlier route; keeping that one");
                continue;
            }
            map.insert(key, config.clone());
            hosts.push(shown);
        }
        if let Some(t) = not_after {
            for host in hosts {
                metrics
                    .certificate_expiry
                    .with_label_values(&[&host])
                    .set(t);
            }
        }
    }

    /// The configuration for a ClientHello's SNI name (`None`: the client sent none).
    pub fn lookup(&self, sni: Option<&str>) -> Option<&Arc<ServerConfig>> {
        let Some(name) = sni else {
            return self.default.as_ref();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(config) = self.exact.get(&name) {
            return Some(config);
        }
        // Longest wildcard suffix first: `.b.example.com` before `.example.com`.
        let mut rest = name.as_str();
        while let Some(dot) = rest.find('.') {
            let suffix = &rest[dot..];
            if let Some(config) = self.wildcard.get(suffix) {
                return Some(config);
            }
            rest = &rest[dot + 1..];
        }
        self.default.as_ref()
    }

    /// True when the handshake name `sni` and the request host `host` get the same
    /// certificate and TLS policy (the same server configuration).
    pub fn serves_both(&self, sni: Option<&str>, host: &str) -> bool {
        match (self.lookup(sni), self.lookup(Some(host))) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// True if some route of the table redirects plain HTTP to https.
    pub fn redirects(&self) -> bool {
        self.redirects
    }
}

fn configure(cert: &TlsCert, base: &TlsBase) -> Result<(Arc<ServerConfig>, Option<i64>), String> {
    let parsed = parse(cert, base.provider()).map_err(|e| e.to_string())?;
    let config = base
        .server_config(&parsed, cert.min_version)
        .map_err(|e| e.to_string())?;
    Ok((Arc::new(config), parsed.not_after))
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
