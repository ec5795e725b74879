//! `loadBalancing` and `sessionAffinity`: how a route spreads connections over its endpoints
//! and keeps the requests of one session on one endpoint.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;

/// Load-balancing algorithm selection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancingSpec {
    /// Algorithm; `LeastConnections` picks the less loaded of two random endpoints.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// A newly added (or recovered) endpoint ramps its share up over this window so a
    /// reconnect storm does not flood a fresh pod (default `0s`: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_start: Option<HumanDuration>,
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
