//! The route table: the one contract between the control plane (file loader or controller)
//! and the data plane. Plain, immutable, comparable data; no tokio or kube types.

pub mod cidr;
pub mod http;
pub mod origin;
pub mod remote;
pub mod security;
pub mod share;
pub mod shared;
pub mod ticket;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An immutable, versioned set of routes. Swapped atomically as a whole.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct RouteTable {
    /// Monotonic version, set by whoever publishes the table.
    pub version: u64,
    /// Routes in precedence order (file order, or oldest first in a cluster).
    pub routes: Arc<[Route]>,
    /// Route objects the control plane left out of the table, and why (the admin page
    /// lists them; a routes file is accepted or rejected whole, so it has none).
    pub refused: Arc<[RefusedRoute]>,
}

/// A route object left out of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRoute {
    /// Kind, namespace and name: `WebSocketRoute team-a/chat`.
    pub source: String,
    /// CamelCase reason (`HostnameConflict`, `InvalidSpec`, ...).
    pub reason: String,
    /// Explanation.
    pub message: String,
}

/// Identity of a route: namespace and name of its document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteId {
    /// Namespace (`default` in a routes file unless given).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for RouteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One route: hosts, rules and the policy for their connections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Namespace and name.
    pub id: RouteId,
    /// Host matches; empty matches every host.
    pub hostnames: Arc<[HostMatch]>,
    /// Path rules in declaration order.
    pub rules: Arc<[Rule]>,
    /// Connection policy.
    pub policy: Arc<RoutePolicy>,
    /// Certificate served on the TLS listener for this route's hosts (for a route with no
    /// hostnames: the default certificate); `None`: no certificate of its own.
    pub tls: Option<Arc<TlsCert>>,
}

/// Certificate material of a route, as data: PEM bytes read from files or from a Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsCert {
    /// PEM certificate chain, leaf first.
    #[serde(with = "remote::bytes")]
    pub cert_chain_pem: Arc<[u8]>,
    /// PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    #[serde(with = "remote::bytes")]
    pub key_pem: Arc<[u8]>,
    /// Lowest TLS version accepted for this route's hosts.
    pub min_version: TlsVersion,
}

/// TLS protocol versions wsgate speaks.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum TlsVersion {
    /// TLS 1.2 (and 1.3).
    #[default]
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

/// TLS from wsgate to a backend's endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpstreamTls {
    /// PEM CA bundle that must have signed the endpoint's certificate.
    #[serde(with = "remote::bytes_opt")]
    pub ca_pem: Option<Arc<[u8]>>,
    /// Accept any certificate (logged as a warning when the table is applied).
    pub insecure_skip_verify: bool,
    /// Name sent as SNI and verified against the certificate; `None`: the endpoint's IP.
    pub server_name: Option<String>,
}

/// A host match.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HostMatch {
    /// Exactly this (lower-case) host.
    Exact(String),
    /// `*.example.com`: stored as the suffix `.example.com`; matches one or more labels.
    Wildcard(String),
}

/// A path rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Path match.
    pub path: PathMatch,
    /// Method, header and query parameter conditions.
    pub conditions: Arc<http::Conditions>,
    /// Header edits, redirect and rewrite.
    pub filters: Arc<http::Filters>,
    /// Destination.
    pub backend: Backend,
    /// TLS to the endpoints (`wss`/`https` backends); `None`: plaintext.
    pub upstream_tls: Option<Arc<UpstreamTls>>,
}

/// A path match.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathMatch {
    /// Segment-aware prefix: `/chat` matches `/chat` and `/chat/x`, not `/chatroom`.
    Prefix(String),
    /// Exactly this path.
    Exact(String),
}

/// Where a rule sends requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Backend {
    /// A set of endpoints.
    Endpoints(Arc<[Endpoint]>),
    /// A backend that cannot be used (missing Service, no endpoints...): requests get 503.
    Invalid {
        /// Why, shown to operators in logs and the 503 body.
        reason: String,
    },
    /// A backend the route names wrongly (a Gateway API backendRef of a kind other than
    /// Service): requests get 500, as the Gateway API asks, since no retry can help.
    Misconfigured {
        /// Why, shown to operators in logs.
        reason: String,
    },
}

/// One endpoint of a backend.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Address to connect to.
    pub addr: SocketAddr,
    /// Relative weight (1 = normal).
    pub weight: u32,
}

/// The listeners a route is matched on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Listeners {
    /// Plaintext and TLS (WebSocketRoutes, Ingresses).
    #[default]
    Both,
    /// The plaintext listener only (Gateway API `HTTP` listeners).
    Plaintext,
    /// The TLS listener only (Gateway API `HTTPS` listeners); on the plaintext listener such a
    /// route is found only for its redirect (`redirect_http`).
    Tls,
}

impl Listeners {
    /// Whether a request on the TLS (`Some(true)`) or plaintext (`Some(false)`) listener
    /// matches; `None` (either) always does.
    pub fn serves(self, tls: Option<bool>) -> bool {
        !matches!(
            (self, tls),
            (Listeners::Plaintext, Some(true)) | (Listeners::Tls, Some(false))
        )
    }
}

/// Per-route connection policy, with every default already applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoutePolicy {
    /// Backend head timeout (handshake or request head).
    pub handshake_timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Time a plain HTTP request may wait for its response head (long-polling included).
    pub request_timeout: Duration,
    /// Idle timeout for WebSockets (no data message either way); `None` disables.
    pub idle_timeout: Option<Duration>,
    /// Control frames between the peers reset the idle timer too.
    pub idle_counts_control: bool,
    /// Keepalive pings; `None` disables.
    pub keepalive: Option<Keepalive>,
    /// Largest message either way, in bytes.
    pub max_message_bytes: u64,
    /// Drain behaviour.
    pub drain: Drain,
    /// Endpoint choice: algorithm and slow start.
    pub balancing: Balancing,
    /// Session affinity.
    pub affinity: Affinity,
    /// Answer plain-HTTP (non-upgrade) requests on the plaintext listener with a 308 to https.
    pub redirect_http: bool,
    /// With `redirect_http`, WebSocket upgrades on the plaintext listener get the 308 too.
    pub redirect_upgrades: bool,
    /// Which listeners match the route (a Gateway API route is bound to its listeners).
    pub listeners: Listeners,
    /// Handshake security: Origin, tickets, external auth, connection limits.
    pub security: Arc<security::SecurityPolicy>,
    /// Percentage of requests and WebSockets written to the access log (answers of 400 and
    /// up always are); `None`: the route's access log is off.
    pub access_log_percent: Option<u8>,
    /// Close with 1002 on RFC 6455 violations (`protocol: Strict`).
    pub strict_protocol: bool,
}

impl RoutePolicy {
    /// Rebalancing may close connections of this route: it rebalances, and its affinity is
    /// not sticky or the policy moves sticky sessions. Socket.IO sessions are not sticky
    /// here: a client whose WebSocket closes reconnects with a new Engine.IO session, which
    /// is balanced afresh.
    pub fn rebalance_moves(&self) -> bool {
        let Some(r) = self.balancing.rebalance else {
            return false;
        };
        let sticky = matches!(
            self.affinity,
            Affinity::Cookie { .. } | Affinity::Hash { .. }
        );
        !sticky || r.move_sticky_sessions
    }
}

/// Keepalive settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keepalive {
    /// Interval between pings.
    pub interval: Duration,
    /// Time allowed for the matching pong.
    pub pong_timeout: Duration,
}

/// Drain settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drain {
    /// Close code sent on drain.
    pub close_code: u16,
    /// Period the closes are spread over.
    pub period: Duration,
}

/// How endpoints are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Balancing {
    /// Algorithm for requests without (or with a missed) affinity.
    pub algorithm: Algorithm,
    /// Ramp-up window of a new or recovered endpoint; zero is off.
    pub slow_start: Duration,
    /// Closing connections of overloaded endpoints after a scale-out; `None` is off.
    pub rebalance: Option<Rebalance>,
}

/// Rebalancing settings, every default applied.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rebalance {
    /// Tolerated ratio of an endpoint's load to its fair share (> 1).
    pub max_imbalance: f64,
    /// Period the closes of one rebalancing are spread over.
    pub window: Duration,
    /// Close code sent to moved clients.
    pub close_code: u16,
    /// Most closes per second on the route (> 0).
    pub max_closes_per_second: u32,
    /// Sessions pinned by affinity may be moved (their affinity is overridden while their
    /// endpoint is overloaded).
    pub move_sticky_sessions: bool,
}

pub use crate::spec::{Algorithm, SameSite};

/// Session affinity, with every default applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Affinity {
    /// None.
    #[default]
    None,
    /// A cookie naming the endpoint.
    Cookie {
        /// Cookie name.
        name: Arc<str>,
        /// `Max-Age`; `None` makes a browser-session cookie.
        ttl: Option<Duration>,
        /// `SameSite` attribute.
        same_site: SameSite,
        /// Mark the cookie `Secure` even on plain HTTP.
        always_secure: bool,
        /// `Path` attribute (default `/`).
        path: Option<Arc<str>>,
    },
    /// Consistent hashing on a key taken from the request.
    Hash {
        /// Where the key comes from.
        key: HashKey,
        /// Bounded-load factor (>= 1); `None` is unbounded.
        bound: Option<f64>,
    },
    /// Engine.IO `sid` learned from handshake responses.
    SocketIo {
        /// Fixed entry lifetime; `None` follows the session's ping interval plus timeout.
        ttl: Option<Duration>,
    },
}

/// Source of a consistent-hash key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HashKey {
    /// A request header (lower-case name).
    Header(Arc<str>),
    /// A query parameter.
    Query(Arc<str>),
    /// The client address.
    ClientIp,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            idle_timeout: Some(Duration::from_secs(3600)),
            idle_counts_control: false,
            keepalive: Some(Keepalive {
                interval: Duration::from_secs(30),
                pong_timeout: Duration::from_secs(10),
            }),
            max_message_bytes: 16 * 1024 * 1024,
            drain: Drain {
                close_code: 1001,
                period: Duration::from_secs(30),
            },
            balancing: Balancing::default(),
            affinity: Affinity::None,
            redirect_http: false,
            redirect_upgrades: false,
            listeners: Listeners::Both,
            security: Arc::default(),
            access_log_percent: Some(100),
            strict_protocol: true,
        }
    }
}
