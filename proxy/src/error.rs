//! The data plane's errors. Each knows its HTTP status and metric label; bodies tell the
//! client what went wrong without exposing internal addresses (those go to the log).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};

/// Response body type of the proxy.
pub type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

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
    /// The route's backend cannot be used.
    #[error("backend unavailable: {0}")]
    BackendInvalid(Arc<str>),
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
    Policy(#[from] crate::policy::Refusal),
}

impl ProxyError {
    /// HTTP status sent to the client.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoRoute { .. } => StatusCode::NOT_FOUND,
            Self::BadHandshake(_) => StatusCode::BAD_REQUEST,
            Self::BackendInvalid(_) | Self::ShuttingDown | Self::NoHealthyEndpoint { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::ConnectFailed { .. } | Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::ConnectTimeout { .. } | Self::UpstreamTimeout { .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            Self::Policy(r) => r.status(),
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
            Self::BackendInvalid(_) => "backend_unavailable",
            Self::NoHealthyEndpoint { .. } => "no_healthy_endpoint",
            Self::ConnectFailed { .. } => "connect_failed",
            Self::ConnectTimeout { .. } => "connect_timeout",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::Upstream { .. } => "upstream_error",
            Self::ShuttingDown => "shutting_down",
            Self::Policy(r) => r.reason(),
        }
    }

    /// What the client reads (no internal addresses).
    fn client_message(&self) -> String {
        match self {
            Self::NoRoute { .. } => "no route matches this host and path".into(),
            Self::BadHandshake(why) => format!("bad WebSocket handshake: {why}"),
            // The cause (a missing Service or Secret...) is in status, Events and the log.
            Self::BackendInvalid(_) => "backend unavailable".into(),
            Self::ConnectFailed { .. } => "the backend refused the connection".into(),
            Self::ConnectTimeout { .. } => {
                "the backend did not accept the connection in time".into()
            }
            Self::UpstreamTimeout { .. } => "the backend did not answer in time".into(),
            Self::Upstream { .. } => "the backend failed to answer".into(),
            Self::NoHealthyEndpoint { .. } => "no backend endpoint is healthy; retry later".into(),
            Self::ShuttingDown => "wsgate is shutting down".into(),
            Self::Policy(r) => r.to_string(),
        }
    }

    /// The plain-text error response.
    pub fn response(&self) -> Response<Body> {
        if let Self::Policy(refusal) = self {
            return refusal.response();
        }
        let status = self.status();
        let text = format!(
            "{} {}: {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            self.client_message()
        );
        let mut resp = Response::new(full(text));
        *resp.status_mut() = status;
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if matches!(self, Self::BadHandshake(_)) {
            headers.insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        if let Self::NoHealthyEndpoint { retry_after } = self {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        } else if matches!(self, Self::ShuttingDown | Self::BackendInvalid(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

/// A complete body from bytes.
pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}
