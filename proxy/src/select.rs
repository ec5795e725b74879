//! Per-request endpoint choice: the route's affinity first (cookie, hash key, Socket.IO
//! session), then its balancing algorithm; one retry on another endpoint when the connect
//! fails before any byte was sent; and what the response must carry back (the affinity
//! cookie, the Socket.IO session to learn).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, StatusCode, Uri, header};
use http_body_util::BodyExt;

use crate::affinity::socketio::{Learn, SniffBody, engine_io};
use crate::balance::{Balancer, Candidate};
use crate::endpoint::EndpointGuard;
use crate::error::{Body, ProxyError};
use crate::handler::Target;
use crate::router::RouteRuntime;
use crate::server::Shared;
use wsgate_core::affinity::{cookie, hash::hash64, query_param};
use wsgate_core::table::{Affinity, HashKey};

/// Seed of affinity-key hashes (fixed: every replica must map a key alike).
const KEY_SEED: u64 = 0x7773_6761_7465_6b79;

/// How a request's endpoint was chosen, kept for a retry and for the response.
#[derive(Debug)]
pub struct Choice {
    balancer: Arc<Balancer>,
    key: Option<u64>,
    presented: Option<u64>,
    learn: Option<Option<Duration>>,
    /// A poll of a session already counted on its endpoint.
    in_session: bool,
    /// A polling handshake: the session's count on its endpoint, from the choice on (the
    /// request itself is then not counted again). Taken once, when the response is learned.
    session: Mutex<Option<EndpointGuard>>,
}

/// The parts of a request the choice reads.
#[derive(Clone, Copy)]
pub struct RequestFacts<'a> {
    /// Request target.
    pub uri: &'a Uri,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Client address.
    pub peer: SocketAddr,
}

/// Chooses the endpoint of a request to `route`'s backend `balancer` and leases it.
pub fn choose(
    shared: &Shared,
    route: &RouteRuntime,
    balancer: &Arc<Balancer>,
    req: RequestFacts<'_>,
) -> Result<(EndpointGuard, Choice), ProxyError> {
    let mut choice = Choice {
        balancer: balancer.clone(),
        key: None,
        presented: None,
        learn: None,
        in_session: false,
        session: Mutex::new(None),
    };
    let pinned = pinned(shared, route, &mut choice, req);
    if choice.key.is_none() && balancer.hashes_by_default() {
        choice.key = Some(hash64(KEY_SEED, req.peer.ip().to_string().as_bytes()));
    }
    let chosen = match pinned.map(|i| &balancer.candidates[i]) {
        Some(c) => c,
        None => balancer
            .pick(choice.key, None)
            .ok_or_else(|| no_healthy(balancer))?,
    };
    let guard = lease(&choice, chosen);
    Ok((guard, choice))
}

/// Leases `chosen`: a session's poll adds no connection; a polling handshake counts as its
/// session (held until the session upgrades or expires); anything else counts itself.
fn lease(choice: &Choice, chosen: &Candidate) -> EndpointGuard {
    if choice.in_session {
        return chosen.state.lease_in_session();
    }
    if choice.learn.is_some() {
        *lock(&choice.session) = Some(chosen.state.hold());
        return chosen.state.lease_in_session();
    }
    chosen.state.acquire()
}

fn lock(m: &Mutex<Option<EndpointGuard>>) -> std::sync::MutexGuard<'_, Option<EndpointGuard>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The endpoint the request's session is bound to, if affinity names a usable one; also
/// fills in the hash key and what the response must teach.
fn pinned(
    shared: &Shared,
    route: &RouteRuntime,
    choice: &mut Choice,
    req: RequestFacts<'_>,
) -> Option<usize> {
    let balancer = choice.balancer.clone();
    let count = |kind: &str, hit: bool| {
        let result = if hit { "hit" } else { "miss" };
        shared
            .metrics
            .affinity
            .with_label_values(&[kind, result])
            .inc();
    };
    match &route.policy.affinity {
        Affinity::None => None,
        Affinity::Cookie { name, .. } => {
            choice.presented = cookie::find(req.headers, name).and_then(cookie::decode);
            let hit = choice
                .presented
                .and_then(|t| balancer.by_token(t))
                .filter(|i| balancer.candidates[*i].state.is_healthy());
            count("cookie", hit.is_some());
            hit
        }
        Affinity::Hash { key, .. } => {
            let (kind, value) = match key {
                HashKey::Header(h) => (
                    "header",
                    req.headers.get(h.as_ref()).map(|v| v.as_bytes().to_vec()),
                ),
                HashKey::Query(q) => (
                    "query",
                    query_param(req.uri.query(), q).map(|v| v.as_bytes().to_vec()),
                ),
                HashKey::ClientIp => ("client_ip", Some(req.peer.ip().to_string().into_bytes())),
            };
            count(kind, value.is_some());
            choice.key = value.map(|v| hash64(KEY_SEED, &v));
            None
        }
        Affinity::SocketIo { ttl } => {
            let eio = engine_io(req.uri.query())?;
            let Some(sid) = eio.sid else {
                // A handshake: its response names the session.
                choice.learn = eio.polling.then_some(*ttl);
                return None;
            };
            // The session exists only on its endpoint: go there even if it is ejected
            // (a failed connect still retries elsewhere).
            let found = shared.endpoints.sessions.lookup(sid, !eio.polling);
            let hit = found.and_then(|a| balancer.position(a));
            // The session is counted on its endpoint (by its hold, later by its tunnel):
            // its polls, including those racing the upgrade, add no connection.
            choice.in_session = eio.polling && hit.is_some();
            count("socketio", hit.is_some());
            hit
        }
    }
}

fn no_healthy(balancer: &Balancer) -> ProxyError {
    if balancer.candidates.is_empty() {
        return ProxyError::BackendInvalid("the backend has no endpoints".into());
    }
    ProxyError::NoHealthyEndpoint {
        retry_after: balancer.retry_in(),
    }
}

/// Runs `connect` against the target's endpoint; when the connect itself fails (nothing
/// was sent), ejects that endpoint and tries once more on another.
pub async fn connect_with_retry<T, F, Fut>(
    shared: &Shared,
    target: &mut Target,
    connect: F,
) -> Result<T, ProxyError>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: Future<Output = Result<T, ProxyError>>,
{
    let err = match attempt(&target.guard, &connect).await {
        Ok(v) => return Ok(v),
        Err(e) if e.is_connect_failure() => e,
        Err(e) => return Err(e),
    };
    let failed = target.guard.endpoint().clone();
    let Some(next) = target
        .choice
        .balancer
        .pick(target.choice.key, Some(&failed))
    else {
        return Err(err);
    };
    shared
        .metrics
        .retries
        .with_label_values(&[&target.route.label])
        .inc();
    tracing::info!(route = %target.route.label, failed = %failed.addr, retry = %next.state.addr, error = %err, "connect failed: retrying on another endpoint");
    target.guard = lease(&target.choice, next);
    attempt(&target.guard, &connect).await
}

async fn attempt<T, F, Fut>(guard: &EndpointGuard, connect: &F) -> Result<T, ProxyError>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: Future<Output = Result<T, ProxyError>>,
{
    let endpoint = guard.endpoint();
    match connect(endpoint.addr).await {
        Ok(v) => {
            endpoint.mark_ok();
            Ok(v)
        }
        Err(e) => {
            if e.is_connect_failure() {
                endpoint.mark_failed();
            }
            Err(e)
        }
    }
}

/// Adds what affinity needs to a successful response: the cookie naming the endpoint
/// that answered, unless the request already carried it.
pub fn decorate_response(target: &Target, headers: &mut HeaderMap, secure: bool) {
    let Affinity::Cookie {
        name,
        ttl,
        same_site,
        always_secure,
        path,
    } = &target.route.policy.affinity
    else {
        return;
    };
    let Some(token) = target
        .choice
        .balancer
        .token_of(target.guard.endpoint().addr)
    else {
        return;
    };
    if target.choice.presented == Some(token) {
        return;
    }
    let attrs = cookie::CookieAttrs {
        name,
        ttl: *ttl,
        same_site: *same_site,
        secure: secure || *always_secure,
        path: path.as_deref().unwrap_or("/"),
    };
    if let Some(value) = cookie::set_cookie(attrs, token) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// The Socket.IO session a successful handshake response teaches, if any.
pub fn session_to_learn(shared: &Shared, target: &Target, status: StatusCode) -> Option<Learn> {
    let ttl = target.choice.learn?;
    let hold = lock(&target.choice.session).take();
    (status == StatusCode::OK).then(|| Learn {
        store: shared.endpoints.sessions.clone(),
        endpoint: target.guard.endpoint().clone(),
        ttl,
        hold,
    })
}

/// Wraps a response body so the session in its open packet is learned as it streams.
pub fn learn_session(body: Body, learn: Option<Learn>) -> Body {
    match learn {
        Some(learn) => SniffBody::new(body, learn).boxed(),
        None => body,
    }
}
