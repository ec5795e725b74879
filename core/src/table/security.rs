//! A route's handshake security as data: Origin allow-list, tickets, external
//! authorization and connection limits; and the listener settings of the process. Compiled
//! from the spec by [`crate::compile`]; enforced by the proxy.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use super::cidr::Cidr;
use super::origin::OriginPolicy;
use super::remote;
use super::ticket::TicketPolicy;

/// A route's security policy, every default applied (part of the route table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityPolicy {
    /// Origin allow-list; `None`: Origin is not checked.
    pub origins: Option<OriginPolicy>,
    /// Ticket authentication.
    pub ticket: Option<Arc<TicketPolicy>>,
    /// External authorization.
    pub external: Option<Arc<ExternalAuth>>,
    /// Time allowed for a FirstMessage ticket.
    pub first_message_timeout: Duration,
    /// Connection and handshake-rate limits.
    pub limits: ConnLimits,
    /// Client address ranges allowed and denied, checked before anything else.
    pub sources: SourceRanges,
    /// Largest plain-HTTP request body; `None`: no limit.
    pub max_request_body: Option<u64>,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            origins: None,
            ticket: None,
            external: None,
            first_message_timeout: Duration::from_secs(5),
            limits: ConnLimits::default(),
            sources: SourceRanges::default(),
            max_request_body: None,
        }
    }
}

/// Which client addresses may use a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRanges {
    /// When not empty, only these are admitted.
    pub allow: Arc<[Cidr]>,
    /// These are refused (before `allow` is looked at).
    pub deny: Arc<[Cidr]>,
}

impl SourceRanges {
    /// Whether `ip` may use the route.
    pub fn admits(&self, ip: std::net::IpAddr) -> bool {
        !self.deny.iter().any(|c| c.contains(ip))
            && (self.allow.is_empty() || self.allow.iter().any(|c| c.contains(ip)))
    }
}

/// Per-route limits, every default applied (`None`: unlimited).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnLimits {
    /// Concurrent WebSockets per client address.
    pub per_ip: Option<u32>,
    /// Concurrent WebSockets on the route.
    pub per_route: Option<u32>,
    /// Handshake rate per client address: tokens per second and bucket size.
    pub rate: Option<(u32, u32)>,
    /// Requests of any kind per client address: tokens per second and bucket size, per
    /// second and per minute.
    pub requests: [Option<RequestRate>; 2],
    /// `per_ip` and `per_route` count the connections of every replica sharing state
    /// (`scope: Cluster`), not only this one's.
    pub cluster: bool,
}

/// A token bucket of requests.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestRate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size.
    pub burst: u32,
    /// The limit as the user gave it, for messages (`5/s`, `100/m`).
    pub shown: (u32, char),
}

/// A compiled external-auth policy (like nginx `auth_request`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalAuth {
    /// `host:port` to connect to.
    pub authority: String,
    /// Path and query of the auth URL.
    pub path: String,
    /// Request headers copied to the auth call.
    #[serde(with = "remote::via")]
    pub forward_headers: Vec<HeaderName>,
    /// Response headers copied upstream on 2xx.
    #[serde(with = "remote::via")]
    pub response_headers: Vec<HeaderName>,
    /// Time allowed for the answer.
    pub timeout: Duration,
    /// Method of the auth call; `None`: the original request's.
    #[serde(with = "remote::via")]
    pub method: Option<http::Method>,
    /// Where a refused (401) page request is redirected, with the original URL in `rd`.
    pub signin_url: Option<String>,
}

/// Settings of the listeners: PROXY protocol, trusted proxies, request-head limits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListenerOptions {
    /// Every connection starts with a PROXY protocol v1/v2 header.
    pub proxy_protocol: bool,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[Cidr]>,
    /// Request-head limits.
    pub head: HeadLimits,
    /// Access-log redaction and extra headers.
    pub access_log: AccessLogOptions,
    /// Keys the affinity cookie's tokens; the same on every replica of an install.
    pub cookie_secret: crate::affinity::secret::CookieSecret,
}

/// What the access log redacts and which extra request headers it logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessLogOptions {
    /// Query parameters whose values are redacted (the routes' ticket parameters always are).
    pub redact_query: Arc<[String]>,
    /// Request headers logged as `header_<name>`.
    pub headers: Arc<[HeaderName]>,
    /// Logged headers whose values are redacted (credentials always are).
    pub redact_headers: Arc<[HeaderName]>,
}

/// Limits of request heads on a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Largest request head (request line and headers), in bytes.
    pub max_bytes: usize,
    /// Most header fields.
    pub max_headers: usize,
    /// Time to receive a whole head.
    pub read_timeout: Duration,
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024,
            max_headers: 100,
            read_timeout: Duration::from_secs(10),
        }
    }
}
