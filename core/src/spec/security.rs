//! Spec types of the handshake security policy: Origin allow-list, ticket and external
//! authentication, and the process-level client-address and request-head settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;

/// Which browser origins may open WebSockets on a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OriginsSpec {
    /// Allowed origins: exact (`https://chat.example.com`) or with a wildcard host label
    /// (`https://*.example.com`, matching any subdomain, not the apex).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Also allow an Origin whose host (and port) equals the request's Host.
    #[serde(default)]
    pub same_host: bool,
    /// Admit handshakes with no Origin header (non-browser clients). Off by default.
    #[serde(default)]
    pub allow_missing_origin: bool,
}

/// Where a route's connection limits (`maxConnectionsPerIP`, `maxConnections`) are counted:
/// `Replica` (default) by each replica alone; `Cluster` by every replica sharing the
/// process's `sharedState` together, with leases that expire when a replica dies (without
/// `sharedState`: per replica, with a warning).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LimitScope {
    /// Each replica counts its own connections (a limit of N admits up to N per replica).
    #[default]
    Replica,
    /// Every replica sharing the process's `sharedState` counts together; without
    /// `sharedState` the route counts per replica and a warning says so.
    Cluster,
}

/// Authentication of a route's WebSocket handshakes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthSpec {
    /// Short-lived JWT tickets verified by wsgate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketSpec>,
    /// An HTTP service asked to admit each handshake (like nginx `auth_request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalAuthSpec>,
    /// With `from: [FirstMessage]`, how long the client has to send its ticket (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_message_timeout: Option<HumanDuration>,
}

/// Where a client may present its ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TicketPlacement {
    /// A query parameter (`queryParam`, default `ticket`), stripped before forwarding.
    Query,
    /// An entry `<subprotocolPrefix><jwt>` of `Sec-WebSocket-Protocol`, removed upstream.
    Subprotocol,
    /// The first WebSocket message; wsgate answers the upgrade itself.
    FirstMessage,
}

/// Signature algorithms accepted for tickets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TicketAlgorithm {
    /// HMAC-SHA256 with a shared key.
    #[default]
    HS256,
    /// RSA PKCS#1 v1.5 with SHA-256, verified with a public key.
    RS256,
    /// ECDSA P-256 with SHA-256, verified with a public key.
    ES256,
}

/// Reference to a Secret holding the ticket key (cluster only): the HS256 shared key, or for
/// RS256/ES256 a PEM public key or a JWKS document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Secret name, in the route's namespace.
    pub name: String,
    /// Data key inside the Secret (default `key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// JWT ticket verification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TicketSpec {
    /// Algorithm (default HS256).
    #[serde(default)]
    pub algorithm: TicketAlgorithm,
    /// HS256: file holding the shared key (routes file only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// HS256: the shared key inline (tests and examples; prefer keyFile or secretRef).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A Secret holding the key (cluster only): the HS256 shared key, or for RS256/ES256 a
    /// PEM public key or a JWKS document. The Secret must carry the label `wsgate.dev/secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// RS256/ES256: PEM file with the public key (routes file only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_file: Option<String>,
    /// RS256/ES256: the PEM public key inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// RS256/ES256: JWKS file; the ticket's `kid` picks the key (routes file only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_file: Option<String>,
    /// RS256/ES256: a JWKS document inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    /// Where tickets are accepted from (default `[Query, Subprotocol]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<TicketPlacement>,
    /// Query parameter name (default `ticket`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_param: Option<String>,
    /// Subprotocol prefix (default `ticket.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subprotocol_prefix: Option<String>,
    /// Expected `aud` (default: the route, `namespace/name`); checked when the ticket has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Refuse tickets without an `aud` claim.
    #[serde(default)]
    pub require_audience: bool,
    /// Refuse tickets without an `ip` claim (an `ip` claim is always checked when present).
    #[serde(default)]
    pub bind_client_ip: bool,
    /// Each `jti` is accepted once within the ticket's lifetime (default true; needs `jti`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_use: Option<bool>,
    /// Longest accepted ticket age by its `iat` (needs `iat` when set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<HumanDuration>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway: Option<HumanDuration>,
    /// `redis://host:port[/db]` for this route's single-use state (default: the process's
    /// `sharedState`, else memory); no password in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_store: Option<String>,
    /// Claims passed to the backend as `X-Wsgate-Claim-<Name>`, besides `sub`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_headers: Vec<String>,
    /// With FirstMessage, forward the ticket message to the backend too (default false).
    #[serde(default)]
    pub forward_first_message: bool,
}

/// External authorization service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalAuthSpec {
    /// `http://host:port/path` called for each handshake.
    pub url: String,
    /// Request headers copied to the auth call (default `[Cookie, Authorization]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_headers: Vec<String>,
    /// Response headers of a 2xx answer copied to the upstream request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_headers: Vec<String>,
    /// Time allowed for the answer (default 2s); a timeout refuses with 503.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// Method of the auth call (default: the original request's method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A browser page request refused with 401 is redirected here instead, with the original
    /// URL in the `rd` query parameter (ingress-nginx `auth-signin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signin_url: Option<String>,
}

/// Limits on request heads, applied per listener before any route is known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeadLimitsSpec {
    /// Largest request head in bytes (request line and headers; default 16384); more is 431.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_head_bytes: Option<u32>,
    /// Most header fields in a request (default 100); more is 431.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_headers: Option<u32>,
    /// Time a client has to send a whole request head (default 10s); slower is 408.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_read_timeout: Option<HumanDuration>,
}
