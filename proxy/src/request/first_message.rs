//! The FirstMessage ticket placement, for clients that cannot put a ticket in the URL or a
//! subprotocol: wsgate answers the upgrade itself, reads one message within
//! `auth.firstMessageTimeout`, verifies it as a ticket, then opens the upstream WebSocket
//! the way every upgrade does (upstream TLS, retry, ejection, timeouts) and relays. Failures
//! close with 4401/4403 and a reason; a backend that fails after the ticket, with 1014.
//!
//! ```text
//!   client ──GET Upgrade──> wsgate ──101 (own accept key)──> client
//!   client ──ticket message──> wsgate: verify, use jti ──GET Upgrade + claims──> backend ──101
//!   client <═══════════════ tunnel (rest of the client's bytes first) ═══════════════> backend
//! ```

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use wsgate_core::table::ticket::TicketRefusal;
use wsgate_tunnel::Prefixed;
use wsgate_tunnel::first_message::{FirstMessage, close_with, read_first_message};

use super::context::Routed;
use super::handshake::{accept_key, send_to_endpoint, upstream_request};
use super::headers::set_websocket_upgrade;
use crate::access::{Access, CLIENT_CLOSED};
use crate::balance::select::Selection;
use crate::body::{Body, empty};
use crate::error::ProxyError;
use crate::policy::admit::{Admission, PendingTicket};
use crate::policy::auth::{add_claim_headers, verify_ticket};
use crate::relay::Relay;
use crate::state::State;

/// Largest ticket message accepted.
const MAX_TICKET_MESSAGE: u64 = 16 * 1024;

/// Answers the upgrade with wsgate's own `101` and runs the rest of the flow in a task.
pub fn answer<B>(
    state: &Arc<State>,
    routed: &Routed,
    admission: Admission,
    selection: Selection,
    ticket: PendingTicket,
    req: &mut Request<B>,
    access: Option<Box<Access>>,
) -> Result<Response<Body>, ProxyError> {
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(ProxyError::BadHandshake("Sec-WebSocket-Key is missing"))?;
    let accept = HeaderValue::from_str(&accept_key(key.as_bytes()))
        .map_err(|_| ProxyError::BadHandshake("Sec-WebSocket-Key is invalid"))?;
    let on_upgrade = hyper::upgrade::on(&mut *req);
    let mut upstream = upstream_request(req, &admission.client, routed)?;
    // wsgate answered without the backend: nothing was negotiated beyond plain WebSocket.
    let h = upstream.headers_mut();
    h.remove(header::SEC_WEBSOCKET_PROTOCOL);
    h.remove(header::SEC_WEBSOCKET_EXTENSIONS);
    let pending = Pending {
        state: state.clone(),
        routed: routed.clone(),
        admission,
        selection,
        ticket,
        upstream,
        access,
    };
    state.tunnels.spawn(pending.run(on_upgrade));
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    set_websocket_upgrade(resp.headers_mut());
    resp.headers_mut()
        .insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    super::filters::edit_response(&routed.rule.filters, resp.headers_mut());
    Ok(resp)
}

/// A handshake answered by wsgate, waiting for its ticket.
struct Pending {
    state: Arc<State>,
    routed: Routed,
    admission: Admission,
    selection: Selection,
    ticket: PendingTicket,
    /// The handshake to forward once the ticket is verified.
    upstream: Request<Body>,
    /// The access-log line, written when the tunnel closes (or now, if it never opens).
    access: Option<Box<Access>>,
}

impl Pending {
    async fn run(mut self, on_upgrade: OnUpgrade) {
        let mut io = match on_upgrade.await {
            Ok(upgraded) => TokioIo::new(upgraded),
            Err(e) => {
                let client = self.admission.client.client;
                tracing::info!(client = %client, error = %e, "upgrade did not complete");
                self.never_opened(CLIENT_CLOSED, "client_closed");
                return;
            }
        };
        let Some(first) = self.verified_ticket(&mut io).await else {
            return;
        };
        let backend = match self.open_upstream().await {
            Ok(b) => b,
            Err(e) => {
                tracing::info!(route = %self.routed.route.label, client = %self.admission.client.client, error = %e, "backend WebSocket failed after a FirstMessage ticket");
                self.never_opened(101, e.reason());
                close_with(&mut io, 1014, "the backend is unavailable").await;
                return;
            }
        };
        let prefix = if self.ticket.policy.forward_first_message {
            Bytes::from([first.raw, first.rest].concat())
        } else {
            first.rest
        };
        self.observe_handshake();
        let mut access = self.access.take();
        if let Some(a) = &mut access {
            a.upgraded();
        }
        let relay = Relay {
            access,
            label: self.routed.route.label.clone(),
            metrics: self.routed.route.handles(&self.state.metrics).clone(),
            policy: self.routed.route.tunnel,
            endpoint: self.selection.guard,
            _permit: self.admission.permit,
            client: self.admission.client.client,
            auth: Some("first_message"),
            rebalance: self.routed.route.rebalance_code,
        };
        let state = self.state;
        state
            .tunnels
            .run(&relay, Prefixed::new(prefix, io), backend)
            .await;
    }

    /// Reads the first message within the timeout and verifies it as a ticket; its claims
    /// go into the upstream handshake. On refusal the client is closed and `None` returned.
    async fn verified_ticket(&mut self, io: &mut TokioIo<Upgraded>) -> Option<FirstMessage> {
        let read = read_first_message(io, MAX_TICKET_MESSAGE);
        let first = match tokio::time::timeout(self.ticket.timeout, read).await {
            Ok(Ok(m)) => m,
            Ok(Err(why)) => {
                let code = why.protocol_close_code();
                return self
                    .refuse_with(io, TicketRefusal::Missing, &why.to_string(), code)
                    .await;
            }
            Err(_) => {
                let why = "no ticket arrived in time";
                return self.refuse(io, TicketRefusal::Missing, why).await;
            }
        };
        let Some(token) = ticket_text(&first.payload) else {
            let why = "the ticket is malformed";
            return self.refuse(io, TicketRefusal::Malformed, why).await;
        };
        let replay = self.state.security.replay();
        let metrics = &self.state.metrics.security;
        let client = self.admission.client.client;
        let policy = &self.ticket.policy;
        match verify_ticket(policy, replay, metrics, &token, client).await {
            Ok(verified) => {
                add_claim_headers(policy, &verified, self.upstream.headers_mut());
                Some(first)
            }
            Err(r) => self.refuse(io, r.clone(), &r.to_string()).await,
        }
    }

    async fn refuse(
        &self,
        io: &mut TokioIo<Upgraded>,
        refusal: TicketRefusal,
        why: &str,
    ) -> Option<FirstMessage> {
        self.refuse_with(io, refusal, why, None).await
    }

    /// Refuses with the refusal's close code, or `code` (1002 for a broken frame).
    async fn refuse_with(
        &self,
        io: &mut TokioIo<Upgraded>,
        refusal: TicketRefusal,
        why: &str,
        code: Option<u16>,
    ) -> Option<FirstMessage> {
        let label = &*self.routed.route.label;
        let [ns, name] = crate::metrics::route_labels(label);
        self.state
            .metrics
            .security
            .auth_refusals
            .with_label_values(&[ns, name, refusal.reason()])
            .inc();
        tracing::info!(route = label, client = %self.admission.client.client, reason = refusal.reason(), detail = why, "FirstMessage ticket refused");
        self.never_opened(101, refusal.reason());
        close_with(io, code.unwrap_or_else(|| refusal.close_code()), why).await;
        None
    }

    /// The access-log line of a WebSocket that never reached the backend: `status` is what
    /// the client got (wsgate's 101, then a close), `reason` why it went no further.
    fn never_opened(&self, status: u16, reason: &str) {
        if let Some(a) = &self.access {
            a.http_done(status, None, Some(reason));
        }
    }

    /// Sends the handshake, with a key of wsgate's own, to the chosen endpoint and waits
    /// for its upgrade.
    async fn open_upstream(&mut self) -> Result<TokioIo<Upgraded>, ProxyError> {
        let key =
            base64::engine::general_purpose::STANDARD.encode(fastrand::u128(..).to_be_bytes());
        let expected = accept_key(key.as_bytes());
        let mut req = std::mem::replace(&mut self.upstream, Request::new(empty()));
        if let Ok(v) = HeaderValue::from_str(&key) {
            req.headers_mut().insert(header::SEC_WEBSOCKET_KEY, v);
        }
        let metrics = &self.state.metrics.requests;
        let mut resp = send_to_endpoint(metrics, &self.routed, &mut self.selection, req).await?;
        let addr = self.selection.endpoint().addr;
        let accepted = resp
            .headers()
            .get(header::SEC_WEBSOCKET_ACCEPT)
            .is_some_and(|v| v == expected.as_str());
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS || !accepted {
            return Err(ProxyError::UpstreamRefused { addr });
        }
        let upgraded = hyper::upgrade::on(&mut resp)
            .await
            .map_err(|source| ProxyError::Upstream { addr, source })?;
        Ok(TokioIo::new(upgraded))
    }

    fn observe_handshake(&self) {
        self.routed
            .route
            .handles(&self.state.metrics)
            .handshake_seconds
            .observe(self.routed.started.elapsed().as_secs_f64());
    }
}

/// The ticket inside a message: the whole text, or the `ticket` field of a JSON object.
fn ticket_text(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    if text.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        return v.get("ticket")?.as_str().map(str::to_string);
    }
    Some(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_ticket_in_text_or_json() {
        assert_eq!(ticket_text(b" a.b.c ").as_deref(), Some("a.b.c"));
        assert_eq!(
            ticket_text(br#"{"ticket":"a.b.c"}"#).as_deref(),
            Some("a.b.c")
        );
        assert_eq!(ticket_text(br#"{"other":1}"#), None);
    }
}
