//! Per-request entry: match the route, then hand the request to the HTTP forwarder or the
//! WebSocket upgrade path. Every refusal is answered here with its status and metric.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response, header};
use hyper::body::Incoming;

use crate::endpoint::EndpointGuard;
use crate::error::{Body, ProxyError};
use crate::headers::is_websocket_upgrade;
use crate::router::{BackendRuntime, RouteRuntime};
use crate::select::{self, Choice, RequestFacts};
use crate::server::Shared;
use crate::{forward, upgrade};

/// Facts about the client connection a request arrived on.
#[derive(Clone, Copy, Debug)]
pub struct ConnInfo {
    /// Client address.
    pub peer: SocketAddr,
    /// `http` or `https`.
    pub proto: &'static str,
}

/// A matched request: route, chosen endpoint (counted while the guard lives).
pub struct Target {
    /// Route the request was accepted with.
    pub route: Arc<RouteRuntime>,
    /// Endpoint lease.
    pub guard: EndpointGuard,
    /// How the endpoint was chosen (for a retry and the affinity response headers).
    pub choice: Choice,
    /// TLS client for the endpoint (`None`: plaintext).
    pub upstream_tls: Option<Arc<crate::tls::UpstreamConnector>>,
}

/// Serves one request.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    conn: ConnInfo,
) -> Result<Response<Body>, Infallible> {
    let upgrade = is_websocket_upgrade(req.headers());
    if !upgrade
        && conn.proto == "http"
        && let Some(redirect) = crate::tls::redirect::for_route(&shared, &req)
    {
        return Ok(redirect);
    }
    let result = route(&shared, &req, conn).map(|target| (target, upgrade));
    let response = match result {
        Ok((target, true)) => upgrade::proxy(&shared, target, req, conn).await,
        Ok((target, false)) => forward::proxy(&shared, target, req, conn).await,
        Err(e) => Err(e),
    };
    Ok(response.unwrap_or_else(|e| {
        shared.metrics.errors.with_label_values(&[e.reason()]).inc();
        tracing::info!(client = %conn.peer, method = %req_method_hint(upgrade), status = e.status().as_u16(), error = %e, "request refused");
        e.response()
    }))
}

fn req_method_hint(upgrade: bool) -> &'static str {
    if upgrade { "websocket" } else { "http" }
}

/// Finds the route and picks an endpoint for `req`.
fn route(shared: &Shared, req: &Request<Incoming>, conn: ConnInfo) -> Result<Target, ProxyError> {
    if shared.shutdown.is_cancelled() {
        return Err(ProxyError::ShuttingDown);
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("");
    let path = req.uri().path();
    let router = shared.router.load();
    let Some((route, rule)) = router.find(host, path) else {
        return Err(ProxyError::NoRoute {
            host: host.to_string(),
            path: path.to_string(),
        });
    };
    let balancer = match &route.rules[rule].backend {
        BackendRuntime::Invalid(reason) => return Err(ProxyError::BackendInvalid(reason.clone())),
        BackendRuntime::Endpoints(b) => b,
    };
    let facts = RequestFacts {
        uri: req.uri(),
        headers: req.headers(),
        peer: conn.peer,
    };
    let (guard, choice) = select::choose(shared, route, balancer, facts)?;
    Ok(Target {
        route: route.clone(),
        guard,
        choice,
        upstream_tls: route.rules[rule].upstream_tls.clone(),
    })
}
