//! The proxy's errors. Each knows its side (who is at fault), its HTTP status and its metric
//! label; what the client reads leaves internal addresses out (those go to the log). A leaf:
//! nothing else of the crate is imported here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use wsgate_core::table::origin::OriginRefusal;
use wsgate_core::table::ticket::TicketRefusal;

/// Who an error is attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The client sent something wsgate refuses.
    Client,
    /// An endpoint, or a service the proxy depends on, failed.
    Upstream,
    /// wsgate itself: configuration in force, shutdown, a store it owns.
    Internal,
}

impl Side {
    /// Log field value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Upstream => "upstream",
            Self::Internal => "internal",
        }
    }
}

/// A request wsgate answers itself with an error.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No route matches host and path.
    #[error("no route for host {host:?} and path {path:?}")]
    NoRoute {
        /// Request host.
        host: String,
        /// Request path.
        path: String,
    },
    /// The WebSocket handshake is malformed.
    #[error("bad WebSocket handshake: {0}")]
    BadHandshake(&'static str),
    /// The request head breaks HTTP's rules (duplicate or missing `Host`).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A method wsgate does not forward (`CONNECT`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// On the TLS listener, the `Host` is not served by the certificate and TLS policy the
    /// handshake's SNI chose (421, RFC 9110 15.5.20).
    #[error("misdirected request: the Host is not served on this TLS connection")]
    Misdirected,
    /// A WebSocket upgrade in clear for a route served over TLS only.
    #[error("this route is served over TLS only")]
    TlsRequired,
    /// The route's backend cannot be used.
    #[error("backend unavailable: {0}")]
    BackendInvalid(Arc<str>),
    /// The route names a backend of a kind wsgate cannot use (500, as the Gateway API asks).
    #[error("backend misconfigured: {0}")]
    BackendMisconfigured(Arc<str>),
    /// Connecting to the endpoint failed.
    #[error("endpoint {addr} refused or failed the connection: {source}")]
    ConnectFailed {
        /// Endpoint.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// Connecting to the endpoint took too long.
    #[error("endpoint {addr} did not accept the connection within {timeout:?}")]
    ConnectTimeout {
        /// Endpoint.
        addr: SocketAddr,
        /// Limit.
        timeout: Duration,
    },
    /// The endpoint did not answer in time.
    #[error("endpoint {addr} did not answer within {timeout:?}")]
    UpstreamTimeout {
        /// Endpoint.
        addr: SocketAddr,
        /// Limit.
        timeout: Duration,
    },
    /// The endpoint broke the exchange.
    #[error("endpoint {addr} failed: {source}")]
    Upstream {
        /// Endpoint.
        addr: SocketAddr,
        /// Cause.
        source: hyper::Error,
    },
    /// The endpoint answered a WebSocket handshake without accepting it properly.
    #[error("endpoint {addr} did not accept the WebSocket")]
    UpstreamRefused {
        /// Endpoint.
        addr: SocketAddr,
    },
    /// Every endpoint of the backend is ejected after failed connects.
    #[error("no healthy endpoint (next retry in {retry_after:?})")]
    NoHealthyEndpoint {
        /// Time until an endpoint is tried again.
        retry_after: Duration,
    },
    /// wsgate is shutting down and takes no new connections.
    #[error("wsgate is shutting down")]
    ShuttingDown,
    /// Handshake policy (limits, Origin, auth) refused the request.
    #[error(transparent)]
    Policy(#[from] Refusal),
}

impl ProxyError {
    /// HTTP status sent to the client.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoRoute { .. } => StatusCode::NOT_FOUND,
            Self::BadHandshake(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Misdirected => StatusCode::MISDIRECTED_REQUEST,
            Self::TlsRequired => StatusCode::FORBIDDEN,
            Self::BackendMisconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BackendInvalid(_) | Self::ShuttingDown | Self::NoHealthyEndpoint { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::ConnectFailed { .. } | Self::Upstream { .. } | Self::UpstreamRefused { .. } => {
                StatusCode::BAD_GATEWAY
            }
            Self::ConnectTimeout { .. } | Self::UpstreamTimeout { .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            Self::Policy(r) => r.status(),
        }
    }

    /// Who is at fault.
    pub fn side(&self) -> Side {
        match self {
            Self::NoRoute { .. }
            | Self::BadHandshake(_)
            | Self::BadRequest(_)
            | Self::MethodNotAllowed
            | Self::Misdirected
            | Self::TlsRequired => Side::Client,
            Self::BackendInvalid(_) | Self::BackendMisconfigured(_) | Self::ShuttingDown => {
                Side::Internal
            }
            Self::ConnectFailed { .. }
            | Self::ConnectTimeout { .. }
            | Self::UpstreamTimeout { .. }
            | Self::Upstream { .. }
            | Self::UpstreamRefused { .. }
            | Self::NoHealthyEndpoint { .. } => Side::Upstream,
            Self::Policy(r) => r.side(),
        }
    }

    /// The connect to the endpoint failed or timed out: nothing reached it, so the request
    /// may be retried on another endpoint.
    pub fn is_connect_failure(&self) -> bool {
        matches!(
            self,
            Self::ConnectFailed { .. } | Self::ConnectTimeout { .. }
        )
    }

    /// Metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NoRoute { .. } => "no_route",
            Self::BadHandshake(_) => "bad_handshake",
            Self::BadRequest(_) => "bad_request",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Misdirected => "misdirected",
            Self::TlsRequired => "tls_required",
            Self::BackendInvalid(_) => "backend_unavailable",
            Self::BackendMisconfigured(_) => "backend_misconfigured",
            Self::NoHealthyEndpoint { .. } => "no_healthy_endpoint",
            Self::ConnectFailed { .. } => "connect_failed",
            Self::ConnectTimeout { .. } => "connect_timeout",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::Upstream { .. } => "upstream_error",
            Self::UpstreamRefused { .. } => "upstream_refused",
            Self::ShuttingDown => "shutting_down",
            Self::Policy(r) => r.reason(),
        }
    }

    /// What the client reads (no internal addresses).
    pub fn client_message(&self) -> String {
        match self {
            Self::NoRoute { .. } => "no route matches this host and path".into(),
            Self::BadHandshake(why) => format!("bad WebSocket handshake: {why}"),
            Self::BadRequest(why) => format!("bad request: {why}"),
            Self::MethodNotAllowed => "wsgate does not forward this method".into(),
            Self::Misdirected => {
                "this host is not served on this TLS connection; open a new connection for it"
                    .into()
            }
            Self::TlsRequired => "this route is served over TLS only: connect with wss://".into(),
            // The cause (a missing Service or Secret...) is in status, Events and the log.
            Self::BackendInvalid(_) => "backend unavailable".into(),
            Self::BackendMisconfigured(_) => "the route's backend is misconfigured".into(),
            Self::ConnectFailed { .. } => "the backend refused the connection".into(),
            Self::ConnectTimeout { .. } => {
                "the backend did not accept the connection in time".into()
            }
            Self::UpstreamTimeout { .. } => "the backend did not answer in time".into(),
            Self::Upstream { .. } => "the backend failed to answer".into(),
            Self::UpstreamRefused { .. } => "the backend did not accept the WebSocket".into(),
            Self::NoHealthyEndpoint { .. } => "no backend endpoint is healthy; retry later".into(),
            Self::ShuttingDown => "wsgate is shutting down".into(),
            Self::Policy(r) => r.to_string(),
        }
    }

    /// Seconds the client should wait before retrying, when that is worth saying.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::NoHealthyEndpoint { retry_after } => {
                Some(retry_after.as_secs_f64().ceil().max(1.0) as u64)
            }
            Self::ShuttingDown | Self::BackendInvalid(_) => Some(1),
            Self::Policy(r) => r.retry_after(),
            _ => None,
        }
    }
}

/// Why policy refused a request.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// A limit (429).
    #[error(transparent)]
    Limit(#[from] LimitRefusal),
    /// The Origin policy (403).
    #[error(transparent)]
    Origin(#[from] OriginRefusal),
    /// Ticket authentication (401/403/503).
    #[error(transparent)]
    Ticket(#[from] TicketRefusal),
    /// External authorization (401/403 passed through, else 503).
    #[error(transparent)]
    External(#[from] ExternalRefusal),
    /// The client address is outside the route's source ranges (403).
    #[error("this client address may not use this route")]
    Source,
    /// The request body is larger than the route allows (413).
    #[error("the request body is larger than {0} bytes")]
    TooLarge(u64),
    /// A page request the auth service refused: redirect to the sign-in page (302).
    #[error("sign-in required")]
    SignIn(HeaderValue),
}

impl Refusal {
    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Limit(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Origin(_) => StatusCode::FORBIDDEN,
            Self::Ticket(t) => StatusCode::from_u16(t.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            Self::External(ExternalRefusal::Denied { status, .. }) => *status,
            Self::External(ExternalRefusal::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Source => StatusCode::FORBIDDEN,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::SignIn(_) => StatusCode::FOUND,
        }
    }

    /// Who is at fault: the client, except when a store or service policy needs is down.
    pub fn side(&self) -> Side {
        match self {
            Self::Ticket(TicketRefusal::StoreUnavailable) => Side::Internal,
            Self::External(ExternalRefusal::Unavailable(_)) => Side::Upstream,
            _ => Side::Client,
        }
    }

    /// Metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Limit(l) => l.reason(),
            Self::Origin(OriginRefusal::Missing) => "origin_missing",
            Self::Origin(OriginRefusal::NotAllowed(_)) => "origin_not_allowed",
            Self::Ticket(t) => t.reason(),
            Self::External(ExternalRefusal::Denied { .. }) => "external_denied",
            Self::External(ExternalRefusal::Unavailable(_)) => "external_unavailable",
            Self::Source => "source_range",
            Self::TooLarge(_) => "body_too_large",
            Self::SignIn(_) => "external_signin",
        }
    }

    /// Seconds before a retry may succeed (limits and unavailable stores clear quickly).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Limit(_)
            | Self::Ticket(TicketRefusal::StoreUnavailable)
            | Self::External(ExternalRefusal::Unavailable(_)) => Some(1),
            _ => None,
        }
    }
}

/// Why a limit refused a handshake (429).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitRefusal {
    /// Too many open WebSockets from this address.
    #[error("too many connections from this client address (limit {0})")]
    PerIp(u32),
    /// Too many open WebSockets on the route.
    #[error("too many connections on this route (limit {0})")]
    PerRoute(u32),
    /// Handshakes arrive faster than allowed.
    #[error("too many handshakes per second from this client address (limit {0}/s)")]
    Rate(u32),
    /// Requests of any kind arrive faster than allowed (`/s` or `/m`).
    #[error("too many requests from this client address (limit {0}/{1})")]
    Requests(u32, char),
}

impl LimitRefusal {
    /// Metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::PerIp(_) => "connections_per_ip",
            Self::PerRoute(_) => "connections_per_route",
            Self::Rate(_) => "handshake_rate",
            Self::Requests(..) => "request_rate",
        }
    }
}

/// Why external auth refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExternalRefusal {
    /// The service answered 401 or 403; its body and `WWW-Authenticate` go to the client.
    #[error("the authorization service answered {status}")]
    Denied {
        /// 401 or 403.
        status: StatusCode,
        /// Its body (truncated).
        body: Bytes,
        /// Its `WWW-Authenticate`, if any.
        www_authenticate: Option<HeaderValue>,
    },
    /// Timeout, connection failure or an unexpected answer: fail closed.
    #[error("the authorization service is unavailable ({0})")]
    Unavailable(&'static str),
}
