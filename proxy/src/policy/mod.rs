//! Handshake policy, applied after the route is matched and before an endpoint is chosen, in
//! the order DESIGN.md gives: source ranges, limits, Origin, auth. A refused request never
//! reaches the backend; it gets a clear status, a metric and a log line.
//!
//! ```text
//!   request ─> strip X-Wsgate-Claim-* ─> client address ─> source ranges ─> request rate ─┬─ WebSocket: limits ─> Origin ─> ticket ─> external ─> Admission
//!                                                                                         └─ plain HTTP: body size ─> ticket param stripped ─> external (or sign-in redirect)
//! ```

pub mod accept;
pub mod metrics;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};

use crate::auth::external::{self, ExternalRefusal};
use crate::auth::replay::ReplayGuard;
use crate::auth::{self, redact_query};
use crate::client_addr::{self, ClientAddr};
use crate::error::{Body, ProxyError, full};
use crate::handler::ConnInfo;
use crate::headers::is_websocket_upgrade;
use crate::limits::{ConnPermit, LimitRefusal, Limiter};
use crate::router::RouteRuntime;
use crate::server::Shared;
use wsgate_core::spec::TicketPlacement;
use wsgate_core::table::origin::OriginRefusal;
use wsgate_core::table::security::{ListenerOptions, SecurityPolicy};
use wsgate_core::table::ticket::{TicketPolicy, TicketRefusal};

/// Process-wide security state, kept across route-table swaps.
#[derive(Default)]
pub struct Security {
    /// Listener settings.
    pub listener: ListenerOptions,
    /// Connection counts and rate buckets.
    pub limiter: Arc<Limiter>,
    /// Single-use ticket state.
    pub replay: ReplayGuard,
}

/// What an admitted WebSocket handshake carries to the upgrade path (request extension).
#[derive(Clone, Debug, Default)]
pub struct Admission {
    /// Counts the connection against the limits while it lives.
    pub permit: Option<Arc<ConnPermit>>,
    /// The ticket is still to come as the first message.
    pub first_message: Option<(Arc<TicketPolicy>, Duration)>,
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

    /// The response sent to the client.
    pub fn response(&self) -> Response<Body> {
        let status = self.status();
        let text = match self {
            Self::External(ExternalRefusal::Denied { body, .. }) if !body.is_empty() => {
                body.clone()
            }
            _ => Bytes::from(format!(
                "{} {}: {self}\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )),
        };
        let mut resp = Response::new(full(text));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        match self {
            Self::Limit(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::Ticket(TicketRefusal::StoreUnavailable)
            | Self::External(ExternalRefusal::Unavailable(_)) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::External(ExternalRefusal::Denied {
                www_authenticate: Some(v),
                ..
            }) => {
                h.insert(header::WWW_AUTHENTICATE, v.clone());
            }
            Self::SignIn(location) => {
                h.insert(header::LOCATION, location.clone());
            }
            _ => {}
        }
        resp
    }
}

/// Applies the route's policy to `req`: rewrites it (client address, claim headers, ticket
/// removed) and, for WebSocket handshakes, stores an [`Admission`] in its extensions.
pub async fn check<B>(
    shared: &Shared,
    route: &RouteRuntime,
    req: &mut Request<B>,
    conn: ConnInfo,
) -> Result<(), ProxyError> {
    let sec = &route.policy.security;
    auth::strip_claim_headers(req.headers_mut());
    let addr = client_addr::resolve(
        conn.peer.ip(),
        req.headers(),
        &shared.security.listener.trusted_proxies,
    );
    req.extensions_mut().insert(addr);
    let result = match admit_source(shared, route, addr) {
        Err(refusal) => Err(refusal),
        Ok(()) if is_websocket_upgrade(req.headers()) => {
            check_handshake(shared, route, req, addr).await
        }
        Ok(()) => check_http(shared, sec, req, addr, conn).await,
    };
    result.map_err(|refusal| {
        let label = &*route.label;
        let reason = refusal.reason();
        let m = &shared.metrics;
        match &refusal {
            Refusal::Limit(_) | Refusal::Source | Refusal::TooLarge(_) => m.security.limit_refusals.with_label_values(&[label, reason]).inc(),
            Refusal::Origin(_) => m.security.origin_refusals.with_label_values(&[label]).inc(),
            Refusal::Ticket(_) | Refusal::External(_) | Refusal::SignIn(_) => m.security.auth_refusals.with_label_values(&[label, reason]).inc(),
        }
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info!(route = label, client = %addr.client, origin, path = req.uri().path(), reason, status = refusal.status().as_u16(), "handshake refused by policy");
        ProxyError::Policy(refusal)
    })
}

async fn check_handshake<B>(
    shared: &Shared,
    route: &RouteRuntime,
    req: &mut Request<B>,
    addr: ClientAddr,
) -> Result<(), Refusal> {
    let sec = &route.policy.security;
    let permit = shared
        .security
        .limiter
        .admit(&route.label, addr.client, &sec.limits)?;
    if let Some(origins) = &sec.origins {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        origins.check(origin, host)?;
    }
    let mut admission = Admission {
        permit: Some(Arc::new(permit)),
        first_message: None,
    };
    if let Some(ticket) = &sec.ticket {
        match auth::take_ticket(ticket, req) {
            Some(token) => {
                let m = &shared.metrics;
                let v =
                    auth::verify_ticket(ticket, &shared.security.replay, m, &token, addr.client)
                        .await?;
                auth::add_claim_headers(ticket, &v, req.headers_mut());
            }
            None if ticket.from.contains(&TicketPlacement::FirstMessage) => {
                admission.first_message = Some((ticket.clone(), sec.first_message_timeout));
            }
            None => return Err(TicketRefusal::Missing.into()),
        }
    }
    external(sec, req, addr, route_param(sec)).await?;
    req.extensions_mut().insert(admission);
    Ok(())
}

/// Source ranges, then the request buckets: every request, WebSocket or not.
fn admit_source(shared: &Shared, route: &RouteRuntime, addr: ClientAddr) -> Result<(), Refusal> {
    let sec = &route.policy.security;
    if !sec.sources.admits(addr.client) {
        return Err(Refusal::Source);
    }
    shared
        .security
        .limiter
        .request(&route.label, addr.client, &sec.limits)?;
    Ok(())
}

async fn check_http<B>(
    _shared: &Shared,
    sec: &SecurityPolicy,
    req: &mut Request<B>,
    addr: ClientAddr,
    conn: ConnInfo,
) -> Result<(), Refusal> {
    if let Some(max) = sec.max_request_body {
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // A body without a length cannot be checked before it is forwarded: it is refused
        // rather than let through unmeasured.
        let has_body = req.headers().contains_key(header::TRANSFER_ENCODING);
        if length.is_some_and(|l| l > max) || (length.is_none() && has_body) {
            return Err(Refusal::TooLarge(max));
        }
    }
    // A ticket never travels upstream, whatever the request.
    if let Some(ticket) = &sec.ticket
        && ticket.from.contains(&TicketPlacement::Query)
    {
        let (uri, _) = auth::strip_query_param(req.uri(), &ticket.query_param);
        *req.uri_mut() = uri;
    }
    let signin = sec.external.as_ref().and_then(|e| e.signin_url.as_deref());
    match (external(sec, req, addr, route_param(sec)).await, signin) {
        (Err(Refusal::External(ExternalRefusal::Denied { status, .. })), Some(signin))
            if status == StatusCode::UNAUTHORIZED =>
        {
            match sign_in(signin, req, conn) {
                Some(location) => Err(Refusal::SignIn(location)),
                None => Err(Refusal::External(ExternalRefusal::Unavailable(
                    "signin_url",
                ))),
            }
        }
        (result, _) => result,
    }
}

/// `signin?rd=<original URL>`, as ingress-nginx's `auth-signin` redirects.
fn sign_in<B>(signin: &str, req: &Request<B>, conn: ConnInfo) -> Option<HeaderValue> {
    let scheme = conn.proto;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let target = format!(
        "{scheme}://{host}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let joiner = if signin.contains('?') { '&' } else { '?' };
    let location = format!("{signin}{joiner}rd={}", encode_component(&target));
    HeaderValue::from_str(&location).ok()
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn route_param(sec: &SecurityPolicy) -> &str {
    sec.ticket
        .as_ref()
        .map_or("ticket", |t| t.query_param.as_str())
}

async fn external<B>(
    sec: &SecurityPolicy,
    req: &mut Request<B>,
    addr: ClientAddr,
    param: &str,
) -> Result<(), Refusal> {
    let Some(ext) = &sec.external else {
        return Ok(());
    };
    let uri = redact_query(
        req.uri().path_and_query().map_or("/", |p| p.as_str()),
        param,
    );
    let add = external::check(ext, req.method(), &uri, req.headers(), addr.client).await?;
    for (name, value) in &add {
        req.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(())
}
