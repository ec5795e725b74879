//! The `WebSocketRoute` spec: one schema for the routes file and the cluster resource.
//!
//! These are the user-facing types (serde + schemars). They are validated and compiled into
//! the immutable [`crate::table::RouteTable`] by [`crate::config`] (file) or by the controller.

mod access_log;
mod balancing;
mod duration;
mod http;
mod security;
mod shared;
mod tls;

pub use access_log::{AccessLogConfigSpec, AccessLogSpec};
pub use balancing::{
    AffinityType, Algorithm, LoadBalancingSpec, RebalanceSpec, SameSite, SessionAffinitySpec,
};
pub use duration::{HumanDuration, parse_duration};
pub use http::{
    FiltersSpec, HeaderModifierSpec, NameValueSpec, PathModifierSpec, PathModifierType,
    RedirectSpec, UrlRewriteSpec,
};
pub use security::{
    AuthSpec, ExternalAuthSpec, HeadLimitsSpec, LimitScope, OriginsSpec, SecretKeyRef,
    TicketAlgorithm, TicketPlacement, TicketSpec,
};
pub use shared::{RedisSpec, SharedStateSpec};
pub use tls::{BackendTlsSpec, TlsMinVersion, TlsSpec};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group and version of every wsgate document.
pub const API_VERSION: &str = "wsgate.dev/v1alpha1";
/// Kind of a route document.
pub const ROUTE_KIND: &str = "WebSocketRoute";
/// Kind of the process-level document of a routes file.
pub const PROXY_CONFIG_KIND: &str = "ProxyConfig";

/// What a WebSocketRoute asks for: hosts, rules and the policy applied to their connections.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteSpec {
    /// Host names served by this route: exact (`chat.example.com`) or wildcard (`*.example.com`).
    /// Empty means every host.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Path rules, each with its backend.
    pub rules: Vec<RuleSpec>,
    /// Certificate for these hosts on the TLS listener, and TLS policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
    /// How connections are spread over the backend's endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancing: Option<LoadBalancingSpec>,
    /// Which requests must reach the same endpoint (Socket.IO sessions, cookies, hashing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<SessionAffinitySpec>,
    /// Handshake, connect and idle timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutsSpec>,
    /// Keepalive pings wsgate sends to clients to detect dead peers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<KeepaliveSpec>,
    /// Limits applied to connections of this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
    /// Browser origins allowed to open WebSockets (checked when set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origins: Option<OriginsSpec>,
    /// Authentication of WebSocket handshakes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSpec>,
    /// How connections are closed when their endpoint goes away or wsgate shuts down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainSpec>,
    /// Client address ranges allowed or denied, checked before anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ranges: Option<SourceRangesSpec>,
    /// Access logging of this route: on (default), off, or a sampled share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogSpec>,
    /// How strictly WebSocket frames are checked as they pass (default `Strict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<WebSocketProtocol>,
}

/// How strictly the tunnel checks the frames it relays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WebSocketProtocol {
    /// Close with 1002 on what RFC 6455 makes a server fail the connection for: unmasked
    /// client frames, masked server frames, reserved bits without an extension, unknown
    /// opcodes, continuations outside a message, invalid close payloads.
    #[default]
    Strict,
    /// Pass such frames on and let the endpoints decide (for clients that break the rules).
    Passthrough,
}

/// Which client addresses may use a route (the client address after PROXY protocol and
/// trusted proxies). A denied address gets 403 before limits, Origin or auth are looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRangesSpec {
    /// When not empty, only clients in one of these CIDRs are admitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Clients in one of these CIDRs are refused (checked before `allow`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// One path rule and where its requests go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSpec {
    /// Path match; defaults to `PathPrefix /`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatchSpec>,
    /// Only requests with this method match (`GET`, `POST`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests carrying every one of these headers (exact values) match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<NameValueSpec>,
    /// Only requests carrying every one of these query parameters (exact values) match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<NameValueSpec>,
    /// Header edits, redirect and rewrite applied to matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<FiltersSpec>,
    /// Where matching requests are sent.
    pub backend: BackendSpec,
}

/// How a request path is matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PathMatchSpec {
    /// `PathPrefix` (segment-aware prefix) or `Exact`.
    #[serde(rename = "type", default)]
    pub kind: PathMatchType,
    /// The path, starting with `/`.
    pub value: String,
}

/// Path match kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PathMatchType {
    /// Matches the path and everything below it.
    #[default]
    PathPrefix,
    /// Matches exactly this path.
    Exact,
}

/// A backend: static addresses (routes file) or a Kubernetes Service (cluster).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendSpec {
    /// Static endpoints as `ip:port` (or `localhost:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<String>>,
    /// A Service in the route's namespace (cluster only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
    /// Several Services sharing the requests by weight (cluster only; instead of `service`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<WeightedServiceRef>,
    /// Connect to the endpoints over TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<BackendTlsSpec>,
}

/// Reference to a Service port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceRef {
    /// Service name.
    pub name: String,
    /// Port number or port name.
    pub port: ServicePort,
}

/// A Service port with its share of the requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightedServiceRef {
    /// Service name.
    pub name: String,
    /// Namespace of the Service (default: the route's; another one needs a ReferenceGrant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Port number or port name.
    pub port: ServicePort,
    /// Relative share of new connections and requests (default 1; 0 sends none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

/// A Service port given by number or by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ServicePort {
    /// Port number.
    Number(u16),
    /// Port name.
    Name(String),
}

/// Timeouts of a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeoutsSpec {
    /// Time for the backend to answer a handshake or request head (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake: Option<HumanDuration>,
    /// Time to open a TCP connection to an endpoint (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<HumanDuration>,
    /// Time a plain HTTP request (e.g. Socket.IO long-polling) may wait for its response
    /// head (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<HumanDuration>,
    /// A WebSocket with no data message either way for this long is closed with 1001
    /// (default 1h; `0s` disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<HumanDuration>,
    /// Pings, pongs and closes between client and backend also keep the connection from
    /// being idle, as any traffic does for nginx's `proxy_read_timeout` (default false:
    /// only data messages count). wsgate's own keepalive exchange never counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_counts_control_frames: Option<bool>,
}

/// Keepalive pings to the client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeepaliveSpec {
    /// Interval between pings (default 30s; `0s` disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_interval: Option<HumanDuration>,
    /// A client that does not answer a ping within this time is disconnected (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pong_timeout: Option<HumanDuration>,
}

/// Per-route limits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitsSpec {
    /// Largest message (sum of its frames' payloads) either way; larger ones close with 1009
    /// (default 16 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<u64>,
    /// Most concurrent WebSockets from one client address; more get 429.
    #[serde(
        default,
        rename = "maxConnectionsPerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_connections_per_ip: Option<u32>,
    /// Most concurrent WebSockets on the route; more get 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// WebSocket handshakes per second from one client address (token bucket); more get 429.
    #[serde(
        default,
        rename = "handshakesPerSecondPerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub handshakes_per_second_per_ip: Option<u32>,
    /// Burst of the handshake token bucket (default: the per-second rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_burst: Option<u32>,
    /// Requests of any kind (plain HTTP and handshakes) per second from one client address;
    /// more get 429 (ingress-nginx `limit-rps`).
    #[serde(
        default,
        rename = "requestsPerSecondPerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub requests_per_second_per_ip: Option<u32>,
    /// Requests of any kind per minute from one client address (ingress-nginx `limit-rpm`).
    #[serde(
        default,
        rename = "requestsPerMinutePerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub requests_per_minute_per_ip: Option<u32>,
    /// Burst of the request buckets, as a multiple of their rate (default 5, like
    /// ingress-nginx `limit-burst-multiplier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_burst_multiplier: Option<u32>,
    /// Largest plain-HTTP request body in bytes; larger ones get 413 (`0`: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_body_bytes: Option<u64>,
    /// Where `maxConnectionsPerIP` and `maxConnections` are counted: `Replica` (default) or
    /// `Cluster` (all replicas together, through `sharedState`, with leases that expire
    /// when a replica dies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<LimitScope>,
}

/// Draining of connections.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The close codes a proxy may put on the wire (RFC 6455 7.4, IANA registry, private range),
// as `compile` checks them; the API server refuses others at apply time (CEL).
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.closeCode) || (self.closeCode >= 1000 && self.closeCode <= 1003) || (self.closeCode >= 1007 && self.closeCode <= 1014) || (self.closeCode >= 3000 && self.closeCode <= 4999)",
    "message": "closeCode must be one a proxy may send: 1000-1003, 1007-1014 or 3000-4999",
}]))]
pub struct DrainSpec {
    /// Close code sent to clients (default 1001 "going away").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
    /// Closes are spread over this period so clients reconnect gradually (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<HumanDuration>,
}

/// Process-level settings of `wsgate proxy` (the `ProxyConfig` document of a routes file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxyConfigSpec {
    /// Listen addresses.
    #[serde(default)]
    pub listen: ListenSpec,
    /// Longest time a shutdown waits for connections to close (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_timeout: Option<HumanDuration>,
    /// Peers (CIDRs) whose `X-Forwarded-For` is believed; others' is replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// Request-head limits of the listeners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<HeadLimitsSpec>,
    /// What the access log redacts and which extra headers it logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogConfigSpec>,
    /// State shared with the other replicas (default: none, each replica keeps its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_state: Option<SharedStateSpec>,
}

/// Listen addresses of the proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListenSpec {
    /// Plaintext HTTP/WebSocket listener (default `127.0.0.1:8080`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// Admin listener: /healthz, /readyz, /metrics (default `127.0.0.1:9090`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    /// TLS listener for `wss://` and `https://` (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https: Option<String>,
    /// Expect a PROXY protocol v1/v2 header on every connection (cloud L4 balancers).
    #[serde(default)]
    pub proxy_protocol: bool,
}
