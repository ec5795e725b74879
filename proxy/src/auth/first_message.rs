//! The FirstMessage ticket placement, for clients that cannot put a ticket in the URL or a
//! subprotocol: wsgate answers the upgrade itself, reads one message within
//! `auth.firstMessageTimeout`, verifies it as a ticket, then opens the upstream WebSocket and
//! splices the two with the tunnel. Failures close with 4401/4403 and a reason.
//!
//! ```text
//!   client ──GET Upgrade──> wsgate ──101 (own accept key)──> client
//!   client ──ticket message──> wsgate: verify, use jti ──GET Upgrade + claims──> backend ──101
//!   client <═══════════════ tunnel (rest of the client's bytes first) ═══════════════> backend
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};

use crate::client_addr::ClientAddr;
use crate::error::{Body, ProxyError};
use crate::handler::{ConnInfo, Target};
use crate::headers::{add_forwarded, set_websocket_upgrade, strip_hop_by_hop};
use crate::policy::Admission;
use crate::server::Shared;
use crate::upstream::handshake;
use wsgate_core::table::ticket::{TicketPolicy, TicketRefusal};
use wsgate_tunnel::Prefixed;
use wsgate_tunnel::TunnelConfig;
use wsgate_tunnel::first_message::{close_with, read_first_message};

/// Largest ticket message accepted.
const MAX_TICKET_MESSAGE: u64 = 16 * 1024;
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 4.2.2).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
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

/// Answers the upgrade with wsgate's own `101` and runs the rest of the flow in a task.
pub fn serve(
    shared: &Arc<Shared>,
    target: Target,
    req: &mut Request<hyper::body::Incoming>,
    conn: ConnInfo,
    ticket: Arc<TicketPolicy>,
    timeout: Duration,
) -> Result<Response<Body>, ProxyError> {
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(ProxyError::BadHandshake("Sec-WebSocket-Key is missing"))?;
    let accept = HeaderValue::from_str(&accept_key(key.as_bytes()))
        .map_err(|_| ProxyError::BadHandshake("Sec-WebSocket-Key is invalid"))?;
    let admission = req.extensions_mut().remove::<Admission>();
    let client = ClientAddr::of(req.extensions(), conn.peer);
    let on_upgrade = hyper::upgrade::on(&mut *req);
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut headers = std::mem::take(req.headers_mut());
    strip_hop_by_hop(&mut headers);
    set_websocket_upgrade(&mut headers);
    add_forwarded(&mut headers, &client, conn.proto);
    // wsgate answered without the backend: nothing was negotiated beyond plain WebSocket.
    headers.remove(header::SEC_WEBSOCKET_PROTOCOL);
    headers.remove(header::SEC_WEBSOCKET_EXTENSIONS);
    let pending = Pending {
        shared: shared.clone(),
        target,
        client,
        ticket,
        timeout,
        path,
        headers,
        admission,
    };
    shared.tunnels.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => pending.run(TokioIo::new(upgraded)).await,
            Err(e) => tracing::info!(client = %conn.peer, error = %e, "upgrade did not complete"),
        }
    });
    let mut resp = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    set_websocket_upgrade(resp.headers_mut());
    resp.headers_mut()
        .insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(resp)
}

struct Pending {
    shared: Arc<Shared>,
    target: Target,
    client: ClientAddr,
    ticket: Arc<TicketPolicy>,
    timeout: Duration,
    path: String,
    headers: HeaderMap,
    admission: Option<Admission>,
}

impl Pending {
    async fn run(mut self, mut io: TokioIo<Upgraded>) {
        let label = self.target.route.label.clone();
        let first = match tokio::time::timeout(
            self.timeout,
            read_first_message(&mut io, MAX_TICKET_MESSAGE),
        )
        .await
        {
            Ok(Ok(m)) => m,
            Ok(Err(why)) => {
                return self
                    .refuse(&mut io, TicketRefusal::Missing, &why.to_string())
                    .await;
            }
            Err(_) => {
                return self
                    .refuse(&mut io, TicketRefusal::Missing, "no ticket arrived in time")
                    .await;
            }
        };
        let Some(token) = ticket_text(&first.payload) else {
            return self
                .refuse(&mut io, TicketRefusal::Malformed, "the ticket is malformed")
                .await;
        };
        let sec = &self.shared.security;
        let verified = super::verify_ticket(
            &self.ticket,
            &sec.replay,
            &self.shared.metrics,
            &token,
            self.client.client,
        )
        .await;
        let verified = match verified {
            Ok(v) => v,
            Err(r) => return self.refuse(&mut io, r.clone(), &r.to_string()).await,
        };
        super::add_claim_headers(&self.ticket, &verified, &mut self.headers);
        let backend = match self.open_upstream().await {
            Ok(b) => b,
            Err(e) => {
                tracing::info!(route = %label, client = %self.client.client, error = %e, "backend WebSocket failed after a FirstMessage ticket");
                close_with(&mut io, 1014, "the backend is unavailable").await;
                return;
            }
        };
        let prefix = if self.ticket.forward_first_message {
            Bytes::from([first.raw, first.rest].concat())
        } else {
            first.rest
        };
        self.splice(Prefixed::new(prefix, io), backend).await;
    }

    async fn refuse(&self, io: &mut TokioIo<Upgraded>, refusal: TicketRefusal, why: &str) {
        let label = &*self.target.route.label;
        self.shared
            .metrics
            .security
            .auth_refusals
            .with_label_values(&[label, refusal.reason()])
            .inc();
        tracing::info!(route = label, client = %self.client.client, reason = refusal.reason(), detail = why, "FirstMessage ticket refused");
        close_with(io, refusal.close_code(), why).await;
    }

    async fn open_upstream(&mut self) -> Result<TokioIo<Upgraded>, ProxyError> {
        let addr = self.target.guard.endpoint().addr;
        let policy = &self.target.route.policy;
        let key: [u8; 16] = fastrand::u128(..).to_be_bytes();
        let key = base64::engine::general_purpose::STANDARD.encode(key);
        let expected = accept_key(key.as_bytes());
        let mut req = Request::new(Empty::new().map_err(|never| match never {}).boxed());
        *req.uri_mut() = self
            .path
            .parse()
            .map_err(|_| ProxyError::BadHandshake("invalid request target"))?;
        *req.headers_mut() = std::mem::take(&mut self.headers);
        if let Ok(v) = HeaderValue::from_str(&key) {
            req.headers_mut().insert(header::SEC_WEBSOCKET_KEY, v);
        }
        let mut sender = handshake(addr, policy.connect_timeout, true).await?;
        let mut resp =
            match tokio::time::timeout(policy.handshake_timeout, sender.send_request(req)).await {
                Err(_) => {
                    return Err(ProxyError::UpstreamTimeout {
                        addr,
                        timeout: policy.handshake_timeout,
                    });
                }
                Ok(r) => r.map_err(|source| ProxyError::Upstream { addr, source })?,
            };
        let accepted = resp
            .headers()
            .get(header::SEC_WEBSOCKET_ACCEPT)
            .is_some_and(|v| v == expected.as_str());
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS || !accepted {
            return Err(ProxyError::BadHandshake(
                "the backend did not accept the WebSocket",
            ));
        }
        let upgraded = hyper::upgrade::on(&mut resp)
            .await
            .map_err(|source| ProxyError::Upstream { addr, source })?;
        Ok(TokioIo::new(upgraded))
    }

    async fn splice(self, client: Prefixed<TokioIo<Upgraded>>, backend: TokioIo<Upgraded>) {
        let label = self.target.route.label.clone();
        let metrics = self.shared.metrics.clone();
        let cfg = TunnelConfig {
            policy: crate::upgrade::tunnel_policy(&self.target.route.policy),
            meter: metrics.tunnel_counters(&label),
            drain: self.target.guard.endpoint().drain.clone(),
            shutdown: self.shared.shutdown.clone(),
            shutdown_spread: self.shared.shutdown_spread,
        };
        let active = metrics.active_connections.with_label_values(&[&label]);
        active.inc();
        let opened = Instant::now();
        let summary = wsgate_tunnel::run(client, backend, cfg).await;
        active.dec();
        let secs = opened.elapsed().as_secs_f64();
        metrics
            .connection_seconds
            .with_label_values(&[&label])
            .observe(secs);
        metrics
            .closes
            .with_label_values(&[&label, summary.reason.as_str()])
            .inc();
        tracing::info!(
            target: "wsgate::access",
            route = %label,
            client = %self.client.client,
            endpoint = %self.target.guard.endpoint().addr,
            duration_s = secs,
            messages_in = summary.messages_up,
            messages_out = summary.messages_down,
            close = summary.reason.as_str(),
            auth = "first_message",
            "websocket closed"
        );
        drop(self.admission);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_rfc_6455() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

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
