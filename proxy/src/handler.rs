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
    mut req: Request<Incoming>,
    conn: ConnInfo,
) -> Result<Response<Body>, Infallible> {
    let upgrade = is_websocket_upgrade(req.headers());
    if conn.proto == "http"
        && let Some(redirect) = crate::tls::redirect::for_route(&shared, &req, upgrade)
    {
        return Ok(redirect);
    }
    let result = admit(&shared, &mut req, conn)
        .await
        .map(|target| (target, upgrade));
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

/// Matches the route, applies its policy (limits, Origin, auth: see [`crate::policy`]), and
/// only then picks an endpoint.
async fn admit(
    shared: &Shared,
    req: &mut Request<Incoming>,
    conn: ConnInfo,
) -> Result<Target, ProxyError> {
    let (route_rt, rule) = find_route(shared, req)?;
    crate::policy::check(shared, &route_rt, req, conn).await?;
    route(shared, &route_rt, rule, req, conn)
}

/// The route and rule index matching `req`.
fn find_route(
    shared: &Shared,
    req: &Request<Incoming>,
) -> Result<(Arc<RouteRuntime>, usize), ProxyError> {
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
    Ok((route.clone(), rule))
}

/// Picks an endpoint of the matched rule for `req`.
fn route(
    shared: &Shared,
    route: &Arc<RouteRuntime>,
    rule: usize,
    req: &Request<Incoming>,
    conn: ConnInfo,
) -> Result<Target, ProxyError> {
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
