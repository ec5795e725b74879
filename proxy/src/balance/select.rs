//! Endpoint choice for one request: the route's affinity first (cookie, hash key, Socket.IO
//! session), then its balancing algorithm; one retry on another endpoint when the connect
//! fails before any byte was sent; and what the response must carry back (the affinity
//! cookie, the Socket.IO session to learn). A [`Selection`] owns all three.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode, Uri, header};
use wsgate_core::affinity::{cookie, hash::hash64, query_param};
use wsgate_core::table::{Affinity, HashKey};

use super::balancer::{Balancer, Candidate};
use super::endpoint::{EndpointGuard, EndpointState};
use super::learn::Learn;
use super::sessions::{SessionStore, engine_io};
use crate::error::ProxyError;
use crate::metrics::RequestMetrics;

/// Seed of affinity-key hashes (fixed: every replica must map a key alike).
const KEY_SEED: u64 = 0x7773_6761_7465_6b79;

/// The parts of a request the choice reads.
#[derive(Clone, Copy)]
pub struct RequestFacts<'a> {
    /// Request target.
    pub uri: &'a Uri,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// The client's address, as resolved through trusted proxies (L10).
    pub client: IpAddr,
}

/// The endpoint chosen for a request, leased while this lives, and how it was chosen (for a
/// retry and for the response).
#[derive(Debug)]
pub struct Selection {
    /// The lease on the endpoint (counts the request or tunnel on it).
    pub guard: EndpointGuard,
    balancer: Arc<Balancer>,
    key: Option<u64>,
    presented: Option<u64>,
    learn: Option<Option<Duration>>,
    /// A poll of a session already counted on its endpoint.
    in_session: bool,
    /// A polling handshake: the session's count on its endpoint, from the choice on (the
    /// request itself is then not counted again). Taken when the response is learned.
    session: Option<EndpointGuard>,
}

/// What affinity found before balancing.
#[derive(Default)]
struct Pinned {
    /// The candidate the session is bound to.
    at: Option<usize>,
    key: Option<u64>,
    presented: Option<u64>,
    learn: Option<Option<Duration>>,
    in_session: bool,
}

impl Selection {
    /// Chooses the endpoint of a request to the backend `balancer` under `affinity`, and
    /// leases it.
    pub fn choose(
        affinity: &Affinity,
        balancer: &Arc<Balancer>,
        sessions: &SessionStore,
        metrics: &RequestMetrics,
        req: RequestFacts<'_>,
    ) -> Result<Self, ProxyError> {
        let mut pin = pinned(affinity, balancer, sessions, metrics, req);
        if pin.key.is_none() && balancer.hashes_by_default() {
            pin.key = Some(hash64(KEY_SEED, req.client.to_string().as_bytes()));
        }
        let chosen = match pin.at.and_then(|i| balancer.candidates.get(i)) {
            Some(c) => c,
            None => balancer
                .pick(pin.key, None)
                .ok_or_else(|| no_healthy(balancer))?,
        };
        let (guard, session) = lease(pin.in_session, pin.learn.is_some(), chosen);
        Ok(Self {
            guard,
            balancer: balancer.clone(),
            key: pin.key,
            presented: pin.presented,
            learn: pin.learn,
            in_session: pin.in_session,
            session,
        })
    }

    /// The chosen endpoint.
    pub fn endpoint(&self) -> &Arc<EndpointState> {
        self.guard.endpoint()
    }

    /// Runs `connect` against the chosen endpoint; when the connect itself fails (nothing
    /// was sent), ejects that endpoint and tries once more on another.
    pub async fn connect_with_retry<T, F, Fut>(
        &mut self,
        label: &str,
        retries: &prometheus::IntCounterVec,
        connect: F,
    ) -> Result<T, ProxyError>
    where
        F: Fn(SocketAddr) -> Fut,
        Fut: Future<Output = Result<T, ProxyError>>,
    {
        let err = match attempt(&self.guard, &connect).await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_connect_failure() => e,
            Err(e) => return Err(e),
        };
        let failed = self.endpoint().clone();
        let Some(next) = self.balancer.pick(self.key, Some(&failed)) else {
            return Err(err);
        };
        retries
            .with_label_values(&crate::metrics::route_labels(label))
            .inc();
        tracing::info!(route = label, failed = %failed.addr, retry = %next.state.addr, error = %err, "connect failed: retrying on another endpoint");
        let (guard, session) = lease(self.in_session, self.learn.is_some(), next);
        self.guard = guard;
        self.session = session;
        attempt(&self.guard, &connect).await
    }

    /// Adds what affinity needs to a successful response: the cookie naming the endpoint
    /// that answered, unless the request already carried it.
    pub fn decorate(&self, affinity: &Affinity, headers: &mut HeaderMap, secure: bool) {
        let Affinity::Cookie {
            name,
            ttl,
            same_site,
            always_secure,
            path,
        } = affinity
        else {
            return;
        };
        let Some(token) = self.balancer.token_of(self.endpoint().addr) else {
            return;
        };
        if self.presented == Some(token) {
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
    pub fn session_to_learn(
        &mut self,
        sessions: &Arc<SessionStore>,
        status: StatusCode,
    ) -> Option<Learn> {
        let ttl = self.learn?;
        let hold = self.session.take();
        (status == StatusCode::OK).then(|| Learn {
            store: sessions.clone(),
            endpoint: self.endpoint().clone(),
            ttl,
            hold,
        })
    }
}

/// Leases `chosen`: a session's poll adds no connection; a polling handshake counts as its
/// session (held until the session upgrades or expires); anything else counts itself.
fn lease(
    in_session: bool,
    learns: bool,
    chosen: &Candidate,
) -> (EndpointGuard, Option<EndpointGuard>) {
    if in_session {
        return (chosen.state.lease_in_session(), None);
    }
    if learns {
        return (chosen.state.lease_in_session(), Some(chosen.state.hold()));
    }
    (chosen.state.acquire(), None)
}

/// The endpoint the request's session is bound to, if affinity names a usable one; also
/// the hash key and what the response must teach.
fn pinned(
    affinity: &Affinity,
    balancer: &Balancer,
    sessions: &SessionStore,
    metrics: &RequestMetrics,
    req: RequestFacts<'_>,
) -> Pinned {
    let count = |kind: &str, hit: bool| {
        let result = if hit { "hit" } else { "miss" };
        metrics.affinity.with_label_values(&[kind, result]).inc();
    };
    let mut pin = Pinned::default();
    match affinity {
        Affinity::None => {}
        Affinity::Cookie { name, .. } => {
            pin.presented = cookie::find(req.headers, name).and_then(cookie::decode);
            pin.at = pin
                .presented
                .and_then(|t| balancer.by_token(t))
                .filter(|i| {
                    balancer
                        .candidates
                        .get(*i)
                        .is_some_and(|c| balancer.holds_affinity(c))
                });
            count("cookie", pin.at.is_some());
        }
        Affinity::Hash { key, .. } => {
            let (kind, value) = hash_key(key, req);
            count(kind, value.is_some());
            pin.key = value.map(|v| hash64(KEY_SEED, &v));
        }
        Affinity::SocketIo { ttl } => {
            let Some(eio) = engine_io(req.uri.query()) else {
                return pin;
            };
            let Some(sid) = eio.sid else {
                // A handshake: its response names the session.
                pin.learn = eio.polling.then_some(*ttl);
                return pin;
            };
            // The session exists only on its endpoint: go there even if it is ejected
            // (a failed connect still retries elsewhere).
            pin.at = sessions
                .lookup(sid, !eio.polling)
                .and_then(|a| balancer.position(a));
            // The session is counted on its endpoint (by its hold, later by its tunnel):
            // its polls, including those racing the upgrade, add no connection.
            pin.in_session = eio.polling && pin.at.is_some();
            count("socketio", pin.at.is_some());
        }
    }
    pin
}

/// The metric label and value of a consistent-hash key.
fn hash_key(key: &HashKey, req: RequestFacts<'_>) -> (&'static str, Option<Vec<u8>>) {
    match key {
        HashKey::Header(h) => (
            "header",
            req.headers.get(h.as_ref()).map(|v| v.as_bytes().to_vec()),
        ),
        HashKey::Query(q) => (
            "query",
            query_param(req.uri.query(), q).map(|v| v.as_bytes().to_vec()),
        ),
        HashKey::ClientIp => ("client_ip", Some(req.client.to_string().into_bytes())),
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
