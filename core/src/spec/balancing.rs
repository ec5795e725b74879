//! `loadBalancing` and `sessionAffinity`: how a route spreads connections over its endpoints
//! and keeps the requests of one session on one endpoint.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;

/// Load-balancing algorithm selection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancingSpec {
    /// Algorithm; `LeastConnections` picks the less loaded of two random endpoints.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// A newly added (or recovered) endpoint ramps its share up over this window so a
    /// reconnect storm does not flood a fresh pod (default `0s`: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_start: Option<HumanDuration>,
    /// After a scale-out, close the excess connections of overloaded endpoints so their
    /// clients reconnect to the new ones (absent: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<RebalanceSpec>,
}

/// Rebalancing of long-lived connections when the live counts of a backend's endpoints
/// drift apart (typically after endpoints were added).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RebalanceSpec {
    /// Tolerated imbalance: the most loaded endpoint may hold this factor times its fair
    /// share (by weight and slow-start ramp) before connections are closed (default 1.2;
    /// must be greater than 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_imbalance: Option<f64>,
    /// Period the closes of one rebalancing are spread over (default `60s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<HumanDuration>,
    /// Close code sent to the moved clients (default 1012, service restart; 1000, 1001,
    /// 1012, 1013 or 3000-4999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
    /// Most closes per second on this route, whatever the window (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_closes_per_second: Option<u32>,
    /// Also move sessions pinned by affinity (`Cookie`, `Header`, `Query`, `ClientIP`,
    /// `ConsistentHash`) off an overloaded endpoint; their affinity is overridden while it
    /// is overloaded (default false: such routes are never rebalanced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_sticky_sessions: Option<bool>,
}

/// Balancing algorithms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Algorithm {
    /// Power-of-two-choices on live connection counts (WebSockets and in-flight requests).
    #[default]
    LeastConnections,
    /// Endpoints in turn, in proportion to their weights.
    RoundRobin,
    /// Consistent hashing on the affinity key (`Header`, `Query`, `ClientIP`), else the
    /// client IP, with bounded load.
    ConsistentHash,
}

/// Session affinity: which requests must reach the same endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionAffinitySpec {
    /// Affinity type (default `None`).
    #[serde(rename = "type", default)]
    pub kind: AffinityType,
    /// `Cookie`: name of the cookie wsgate sets (default `wsgate-affinity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_name: Option<String>,
    /// `Cookie`: lifetime of the cookie (default `1h`; `0s` makes it a browser-session cookie).
    /// `SocketIO`: longest time a session entry is kept without traffic (default: the
    /// session's own ping interval plus ping timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<HumanDuration>,
    /// `Cookie`: the cookie's `SameSite` attribute (default `Lax`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSite>,
    /// `Cookie`: always mark the cookie `Secure` (default: only on https or with
    /// `SameSite=None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_secure: Option<bool>,
    /// `Cookie`: the cookie's `Path` (default `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_path: Option<String>,
    /// `Header`: the request header whose value is hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    /// `Query`: the query parameter whose value is hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_param: Option<String>,
    /// `Header`, `Query`, `ClientIP`: no endpoint takes more than this factor times the
    /// average load; a hot key spills to the next endpoint on the ring (default 1.25;
    /// `0` turns the bound off, so keys never move while their endpoint is healthy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounded_load_factor: Option<f64>,
}

/// Affinity types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AffinityType {
    /// Every request is balanced on its own.
    #[default]
    None,
    /// wsgate sets a cookie naming the endpoint (opaque; the same on every replica).
    Cookie,
    /// Consistent hashing on a request header.
    Header,
    /// Consistent hashing on a query parameter.
    Query,
    /// Consistent hashing on the client address.
    #[serde(rename = "ClientIP")]
    ClientIp,
    /// Engine.IO sessions: `sid` learned from the handshake response pins later polling and
    /// upgrade requests to the endpoint that created the session, without cookies.
    #[serde(rename = "SocketIO")]
    SocketIo,
}

/// Cookie `SameSite` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SameSite {
    /// Sent on same-site requests and top-level navigations.
    #[default]
    Lax,
    /// Sent on same-site requests only.
    Strict,
    /// Sent on cross-site requests too (wsgate then always adds `Secure`).
    None,
}
