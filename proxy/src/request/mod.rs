//! The request step: one request, start to end, in the order of the data flow. Each path
//! reads top to bottom as that line; every refusal is answered here with its status,
//! metric and log line.
//!
//! ```text
//!  WebSocket: handshake valid? ─> route ─> policy ─> choose ─> connect ─> 101 ─> relay   (upgrade.rs)
//!               └─ ticket as first message: 101 by wsgate ─> ticket ─> connect ─> relay (first_message.rs)
//!  HTTP:      redirect? ─> route ─> policy ─> choose ─> pooled/new connection ─> response (forward.rs)
//! ```

pub(crate) mod context;
mod filters;
mod first_message;
mod forward;
mod handshake;
mod headers;
mod redirect;
mod respond;
mod sanitize;
mod upgrade;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::SystemTime;

use http::{Request, Response};
use hyper::body::Incoming;

use crate::access::AccessSlot;
use crate::admin::refusals::{BACKEND_REJECTED, Refused};
use crate::body::Body;
use crate::error::ProxyError;
use crate::state::State;
use context::ConnInfo;

/// Serves one request of a client connection; its access-log line is written when wsgate
/// answers, or later by the response body or the tunnel it hands the line to.
pub async fn handle(
    state: Arc<State>,
    mut req: Request<Incoming>,
    conn: ConnInfo,
) -> Result<Response<Body>, Infallible> {
    let upgrade = headers::is_websocket_upgrade(req.headers());
    let tls = conn.tls.as_ref();
    let mut access = AccessSlot::capture(&state.listener, &mut req, conn.peer, tls, upgrade);
    let peer = conn.peer;
    let result = match checked(&state, &mut req, &conn) {
        Err(e) => Err(e),
        Ok(()) => {
            if upgrade {
                upgrade::serve(&state, req, conn, &mut access).await
            } else {
                forward::serve(&state, req, conn, &mut access).await
            }
        }
    };
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.status(),
    };
    let kind = if upgrade { "websocket" } else { "http" };
    let refused = match &result {
        Err(e) => Some(e.reason()),
        // The endpoint's own refusal of the upgrade (its answer went to the client).
        Ok(r) if upgrade && r.status().as_u16() >= 400 => Some(BACKEND_REJECTED),
        Ok(_) => None,
    };
    if let Some(reason) = refused {
        state.refusals.record(Refused {
            at: SystemTime::now(),
            kind,
            status: status.as_u16(),
            reason,
            route: access.route_label(),
        });
    }
    access.answered(status.as_u16(), refused);
    Ok(result.unwrap_or_else(|e| {
        state
            .metrics
            .requests
            .errors
            .with_label_values(&[e.reason()])
            .inc();
        tracing::info!(client = %peer, method = %kind, status = e.status().as_u16(), side = e.side().as_str(), error = %e, "request refused");
        respond::error(&e)
    }))
}

/// What every request passes before its path is taken: the head's own rules, the TLS host
/// (421), the normalised path; then the headers its `Connection` names are removed.
fn checked<B>(state: &State, req: &mut Request<B>, conn: &ConnInfo) -> Result<(), ProxyError> {
    sanitize::check_head(req.method(), req.version(), req.headers())?;
    context::check_tls_host(&state.certs.load(), req, conn)?;
    sanitize::normalize_target(req.uri_mut())?;
    sanitize::strip_connection_named(req.headers_mut());
    Ok(())
}
