//! What a request carries from step to step, typed: the connection it arrived on and the
//! route it matched (who the client is and what policy admitted come from the policy step
//! as a value, never through request extensions); and the two steps every path shares,
//! route and choose.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use http::{Request, header};
use wsgate_core::route_match::RequestView;
use wsgate_core::table::Affinity;

pub use crate::access::TlsInfo;
use crate::balance::select::{RequestFacts, Selection};
use crate::balance::sessions::engine_io;
use crate::error::ProxyError;
use crate::route::{RouteRuntime, Router, RuleRuntime};
use crate::state::State;
use crate::tls::store::CertStore;

/// The listener a connection arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// The plaintext listener.
    Http,
    /// The TLS listener.
    Https,
}

impl Proto {
    /// `http` or `https` (`X-Forwarded-Proto`, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// Facts about the client connection a request arrived on.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    /// Client address (the PROXY protocol source when the listener expects one).
    pub peer: SocketAddr,
    /// Listener.
    pub proto: Proto,
    /// The TLS session, on the TLS listener.
    pub tls: Option<TlsInfo>,
}

impl ConnInfo {
    /// A connection from `peer` on the `proto` listener.
    pub fn new(peer: SocketAddr, proto: Proto) -> Self {
        Self {
            peer,
            proto,
            tls: None,
        }
    }

    /// The server name the TLS handshake asked for (SNI), if any.
    pub fn sni(&self) -> Option<&str> {
        self.tls.as_ref().and_then(|t| t.sni.as_deref())
    }
}

/// On the TLS listener, the request's `Host` must be served by the certificate and TLS
/// policy the handshake's SNI chose: otherwise a client could pass a route's stricter TLS
/// policy (or reach a host whose certificate it never checked) with another name's
/// handshake. 421 tells it to open a connection for that host.
pub fn check_tls_host<B>(
    certs: &CertStore,
    req: &Request<B>,
    conn: &ConnInfo,
) -> Result<(), ProxyError> {
    if conn.proto != Proto::Https || certs.serves_both(conn.sni(), host_name(host_of(req))) {
        return Ok(());
    }
    Err(ProxyError::Misdirected)
}

/// `example.com:8443` -> `example.com`; `[::1]:8443` -> `::1`.
pub fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// A request past the route step.
#[derive(Clone)]
pub struct Routed {
    /// The connection.
    pub conn: ConnInfo,
    /// When the request arrived.
    pub started: Instant,
    /// The route it was accepted with (kept for the connection's whole life).
    pub route: Arc<RouteRuntime>,
    /// The matched rule of that route.
    pub rule: Arc<RuleRuntime>,
}

/// The `Host` of a request (header, else the absolute URI's host), or `""`.
pub fn host_of<B>(req: &Request<B>) -> &str {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("")
}

/// What route matching looks at in `req`.
pub fn view<B>(req: &Request<B>, tls: Option<bool>) -> RequestView<'_> {
    RequestView {
        host: host_of(req),
        path: req.uri().path(),
        method: req.method(),
        query: req.uri().query(),
        headers: req.headers(),
        tls,
    }
}

/// The route step: the route and rule for `req` (404 when none), unless wsgate is
/// shutting down (503).
pub fn route<B>(
    router: &Router,
    shutting_down: bool,
    req: &Request<B>,
    conn: ConnInfo,
    started: Instant,
) -> Result<Routed, ProxyError> {
    if shutting_down {
        return Err(ProxyError::ShuttingDown);
    }
    let host = host_of(req);
    let path = req.uri().path();
    let tls = matches!(conn.proto, Proto::Https);
    let Some((route, rule)) = router.find(&view(req, Some(tls))) else {
        return Err(ProxyError::NoRoute {
            host: host.to_string(),
            path: path.to_string(),
        });
    };
    Ok(Routed {
        conn,
        started,
        route: route.clone(),
        rule: rule.clone(),
    })
}

/// The choose step: the endpoint of the matched rule for `req` (affinity, then balancing),
/// leased until the selection is dropped. A Socket.IO session another replica learned is
/// fetched from the shared table first. `client` is the address admission resolved (through
/// trusted proxies), so ClientIP affinity and hashing follow the client, not its proxy.
pub async fn choose<B>(
    state: &State,
    routed: &Routed,
    req: &Request<B>,
    client: IpAddr,
) -> Result<Selection, ProxyError> {
    if let Affinity::SocketIo { .. } = routed.route.policy.affinity
        && let Some(sid) = engine_io(req.uri().query()).and_then(|e| e.sid)
    {
        state.sessions.prefetch(sid).await;
    }
    let facts = RequestFacts {
        uri: req.uri(),
        headers: req.headers(),
        client,
    };
    Selection::choose(
        &routed.route.policy.affinity,
        routed.rule.balancer()?,
        &state.sessions,
        &state.metrics.requests,
        facts,
    )
}
