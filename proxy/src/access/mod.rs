//! The access log: one line per HTTP request (when its response body ends, or at once when
//! wsgate answers) and one per WebSocket (when it closes), on the `wsgate::access` target,
//! so `--log-format` makes it JSON or text and `WSGATE_LOG=wsgate::access=off` silences it.
//!
//! ```text
//!  request ─> capture (request id, resolved client, redaction inputs)
//!               ├─ wsgate answers (404, 403, 308, 502, ...) ─> line now
//!               ├─ HTTP response ─> carried by the body ─> line at its end or drop
//!               └─ 101 ─> carried by the tunnel ─> line at close (codes, messages, bytes)
//! ```
//!
//! A route's `accessLog` turns its lines off or samples them; answers of 400 and up are
//! never sampled away.

mod redact;
mod request_id;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Method, Request, Uri, header};
use wsgate_core::table::security::AccessLogOptions;
use wsgate_tunnel::TunnelSummary;

use wsgate_core::table::security::ListenerOptions;

use crate::policy::client_addr;
use crate::route::RouteRuntime;

/// What the access log shows of a TLS session.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    /// Protocol version (`TLSv1.3`, `TLSv1.2`).
    pub version: &'static str,
    /// Server name the client asked for (SNI).
    pub sni: Option<Arc<str>>,
}

/// What a request's line needs, captured when it arrives (cheap clones of the head's parts).
pub struct Access {
    started: Instant,
    websocket: bool,
    method: Method,
    uri: Uri,
    host: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    request_id: HeaderValue,
    headers: Vec<(http::HeaderName, Option<HeaderValue>)>,
    peer: SocketAddr,
    tls: Option<TlsInfo>,
    client: IpAddr,
    options: AccessLogOptions,
    route: Option<Arc<RouteRuntime>>,
    endpoint: Option<SocketAddr>,
    handshake_s: Option<f64>,
    declared_in: Option<u64>,
}

/// The slot of a request's [`Access`]: taken by whatever logs the line later (the response
/// body, the tunnel); whatever is left when the request is answered logs at once.
#[derive(Default)]
pub struct AccessSlot(Option<Box<Access>>);

impl AccessSlot {
    /// Captures `req` as it arrived, and assigns its request id (kept from a trusted peer,
    /// else generated) on it for the backend.
    pub fn capture<B>(
        listener: &ListenerOptions,
        req: &mut Request<B>,
        peer: SocketAddr,
        tls: Option<&TlsInfo>,
        websocket: bool,
    ) -> Self {
        let client = client_addr::resolve(peer.ip(), req.headers(), &listener.trusted_proxies);
        let request_id = request_id::assign(req.headers_mut(), client.peer_trusted);
        let options = listener.access_log.clone();
        let headers = options
            .headers
            .iter()
            .map(|h| (h.clone(), req.headers().get(h).map(detached)))
            .collect();
        Self(Some(Box::new(Access {
            started: Instant::now(),
            websocket,
            method: req.method().clone(),
            uri: detached_uri(req.uri()),
            host: req.headers().get(header::HOST).map(detached),
            user_agent: req.headers().get(header::USER_AGENT).map(detached),
            request_id: detached(&request_id),
            headers,
            peer,
            tls: tls.cloned(),
            client: client.client,
            options,
            route: None,
            endpoint: None,
            handshake_s: None,
            declared_in: declared_length(req.headers()),
        })))
    }

    /// Records the route the request matched.
    pub fn route(&mut self, route: &Arc<RouteRuntime>) {
        if let Some(a) = &mut self.0 {
            a.route = Some(route.clone());
        }
    }

    /// Records the endpoint chosen.
    pub fn endpoint(&mut self, addr: SocketAddr) {
        if let Some(a) = &mut self.0 {
            a.endpoint = Some(addr);
        }
    }

    /// `namespace/name` of the route the request matched, while the line is here.
    pub fn route_label(&self) -> Option<Arc<str>> {
        let a = self.0.as_ref()?;
        Some(a.route.as_ref()?.label.clone())
    }

    /// Hands the line over to what will log it later.
    pub fn take(&mut self) -> Option<Box<Access>> {
        self.0.take()
    }

    /// Logs the line now, with the status wsgate or the endpoint answered and, for a
    /// refusal, its reason (unless the line was handed over).
    pub fn answered(mut self, status: u16, reason: Option<&'static str>) {
        if let Some(a) = self.0.take() {
            a.http_done(status, None, reason);
        }
    }
}

/// Nginx's status for a request whose client went away before the answer.
pub const CLIENT_CLOSED: u16 = 499;

impl Drop for AccessSlot {
    /// The request was dropped unanswered: the client closed its connection while wsgate
    /// was still at work (waiting for the backend's answer to an upgrade, say).
    fn drop(&mut self) {
        if let Some(a) = self.0.take() {
            a.http_done(CLIENT_CLOSED, None, Some("client_closed"));
        }
    }
}

/// The body length a request head declares: its `Content-Length`, 0 without a body, `None`
/// for a chunked body.
fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    match headers.get(header::CONTENT_LENGTH) {
        Some(v) => v.to_str().ok()?.trim().parse().ok(),
        None if headers.contains_key(header::TRANSFER_ENCODING) => None,
        None => Some(0),
    }
}

impl Access {
    /// Records the moment the `101` went out.
    pub fn upgraded(&mut self) {
        self.handshake_s = Some(self.started.elapsed().as_secs_f64());
    }

    /// The line of a plain HTTP exchange whose response body ended (or was dropped), and of
    /// an upgrade that never became a WebSocket; `reason` says why wsgate or the endpoint
    /// refused it.
    pub fn http_done(&self, status: u16, bytes_out: Option<u64>, reason: Option<&str>) {
        if !self.sampled(status) {
            return;
        }
        let path = self.path();
        let headers = self.headers_field();
        tracing::info!(
            target: "wsgate::access",
            kind = if self.websocket { "websocket" } else { "http" },
            request_id = self.request_id.to_str().unwrap_or(""),
            client = %self.client,
            peer = %self.peer,
            method = self.method.as_str(),
            host = self.host.as_ref().and_then(|h| h.to_str().ok()),
            path,
            status,
            reason,
            route = self.route.as_ref().map(|r| &*r.label),
            endpoint = self.endpoint.map(|e| e.to_string()),
            duration_s = self.started.elapsed().as_secs_f64(),
            bytes_in = self.bytes_in(),
            bytes_out,
            tls_version = self.tls.as_ref().map(|t| t.version),
            sni = self.tls.as_ref().and_then(|t| t.sni.as_deref()),
            user_agent = self.user_agent.as_ref().and_then(|h| h.to_str().ok()),
            headers = headers.as_deref(),
            "request"
        );
    }

    /// The line of a WebSocket at its close.
    pub fn websocket_closed(&self, summary: &TunnelSummary, auth: Option<&'static str>) {
        if !self.sampled(101) {
            return;
        }
        let path = self.path();
        let headers = self.headers_field();
        let (close_side, close_code) = match summary.close {
            Some((side, code)) => (Some(side.as_str()), Some(code)),
            None => (None, None),
        };
        tracing::info!(
            target: "wsgate::access",
            kind = "websocket",
            request_id = self.request_id.to_str().unwrap_or(""),
            client = %self.client,
            peer = %self.peer,
            method = self.method.as_str(),
            host = self.host.as_ref().and_then(|h| h.to_str().ok()),
            path,
            status = 101u16,
            route = self.route.as_ref().map(|r| &*r.label),
            endpoint = self.endpoint.map(|e| e.to_string()),
            handshake_s = self.handshake_s,
            duration_s = self.started.elapsed().as_secs_f64(),
            bytes_in = summary.bytes_up,
            bytes_out = summary.bytes_down,
            messages_in = summary.messages_up,
            messages_out = summary.messages_down,
            close_reason = summary.reason.as_str(),
            close_side,
            close_code,
            auth,
            tls_version = self.tls.as_ref().map(|t| t.version),
            sni = self.tls.as_ref().and_then(|t| t.sni.as_deref()),
            user_agent = self.user_agent.as_ref().and_then(|h| h.to_str().ok()),
            headers = headers.as_deref(),
            "websocket closed"
        );
    }

    /// Whether this line is written: the route's share (all without a route); answers of
    /// 400 and up are never sampled away, only switched off with the route's log.
    fn sampled(&self, status: u16) -> bool {
        let percent = self
            .route
            .as_ref()
            .map_or(Some(100), |r| r.policy.access_log_percent);
        match percent {
            None => false,
            Some(100..) => true,
            _ if status >= 400 => true,
            Some(p) => fastrand::u8(0..100) < p,
        }
    }

    /// The path and query, redacted.
    fn path(&self) -> String {
        let ticket = self
            .route
            .as_ref()
            .and_then(|r| r.policy.security.ticket.as_ref());
        let param = ticket.map(|t| t.query_param.as_str());
        redact::target(&self.uri, param, &self.options.redact_query)
    }

    /// The request body length the client declared.
    fn bytes_in(&self) -> Option<u64> {
        self.declared_in
    }

    /// The configured headers as `name=value; ...`, secrets redacted; `None` when none are
    /// configured.
    fn headers_field(&self) -> Option<String> {
        if self.headers.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = match value {
                    None => "-",
                    Some(_) if redact::header_is_secret(name, &self.options.redact_headers) => {
                        redact::REDACTED
                    }
                    Some(v) => v.to_str().unwrap_or("[binary]"),
                };
                format!("{name}={shown}")
            })
            .collect();
        Some(parts.join("; "))
    }
}

/// A copy of `value` in its own allocation. A request's header values and target are slices
/// of hyper's read buffer for the connection; keeping one for the life of a WebSocket would
/// keep that whole buffer (8 KiB) alive per idle connection.
fn detached(value: &HeaderValue) -> HeaderValue {
    HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A copy of `uri` that shares no memory with the request (see [`detached`]).
fn detached_uri(uri: &Uri) -> Uri {
    Uri::from_maybe_shared(bytes::Bytes::copy_from_slice(uri.to_string().as_bytes()))
        .unwrap_or_else(|_| Uri::from_static("/"))
}

#[cfg(test)]
mod detach_tests {
    use super::*;

    #[test]
    fn kept_values_share_no_memory_with_the_request() {
        let buf = bytes::Bytes::from_static(b"chat.example.com/socket?x=1");
        let host = HeaderValue::from_maybe_shared(buf.slice(0..16)).expect("value");
        let copy = detached(&host);
        assert_eq!(copy, host);
        assert_ne!(copy.as_bytes().as_ptr(), host.as_bytes().as_ptr());
        let uri = Uri::from_maybe_shared(buf.slice(16..)).expect("uri");
        let copy = detached_uri(&uri);
        assert_eq!(copy, uri);
        let path = uri.path_and_query().map(|p| p.as_str().as_ptr());
        assert_ne!(copy.path_and_query().map(|p| p.as_str().as_ptr()), path);
    }
}
