//! The WebSocket upgrade path, in one direction: the handshake is checked first, then
//! route, policy, choose, connect, the endpoint's answer to the client, and the relay. A
//! refused or malformed handshake never spends a limiter permit, a ticket or an external
//! auth call it does not need, and never reaches the backend.

use std::sync::Arc;
use std::time::Instant;

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;

use super::context::{self, ConnInfo, Proto, Routed};
use super::filters;
use super::first_message;
use super::handshake::{self, send_to_endpoint, upstream_request};
use super::headers::{set_websocket_upgrade, strip_hop_by_hop};
use super::redirect;
use crate::access::AccessSlot;
use crate::balance::select::Selection;
use crate::body::{Body, empty};
use crate::error::ProxyError;
use crate::policy::admit::Admission;
use crate::relay::Relay;
use crate::state::State;

/// Serves a WebSocket handshake: on the endpoint's `101` (or wsgate's own, for a ticket
/// still to come as the first message), answers it and starts the tunnel.
pub async fn serve<B>(
    state: &Arc<State>,
    mut req: Request<B>,
    conn: ConnInfo,
    access: &mut AccessSlot,
) -> Result<Response<Body>, ProxyError> {
    let started = Instant::now();
    // 0. A route that asks for it sends even ws:// upgrades to https (`redirectUpgrades`).
    if conn.proto == Proto::Http {
        let http_requests = &state.metrics.requests.http_requests;
        let certs = state.certs.load();
        let via_https = state
            .security
            .forwarded_https(conn.peer.ip(), req.headers());
        let router = state.router.load();
        if let Some(r) = redirect::for_route(&router, &certs, http_requests, &req, true, via_https)
        {
            return r;
        }
    }
    // 1. The handshake itself, before anything is spent on it.
    let valid = handshake::validate(req.method(), req.version(), req.headers());
    // 2. Route (a pure lookup; also names the route a malformed handshake is counted on).
    let routed = context::route(
        &state.router.load(),
        state.draining.is_cancelled(),
        &req,
        conn.clone(),
        started,
    );
    if let Ok(routed) = &routed {
        access.route(&routed.route);
    }
    if let Err(e) = valid {
        if let Ok(routed) = &routed {
            count(state, routed, Err(&e));
        }
        return Err(e);
    }
    let routed = routed?;
    // A rule that redirects answers before anything is spent on the request.
    if let Some(r) = filters::redirect(&routed.rule.filters, &req, conn.proto) {
        count(state, &routed, Ok(r.status()));
        return Ok(r);
    }
    // 3. Policy: limits, Origin, ticket, external auth.
    let https = conn.proto == Proto::Https
        || state
            .security
            .forwarded_https(conn.peer.ip(), req.headers());
    let scheme = if https { "https" } else { "http" };
    let admission = state
        .security
        .admit_handshake(
            &state.metrics.security,
            &routed.route.label,
            &routed.route.policy.security,
            &mut req,
            (conn.peer.ip(), scheme),
        )
        .await?;
    // 4. Choose the endpoint.
    let selection = context::choose(state, &routed, &req, admission.client.client).await?;
    access.endpoint(selection.endpoint().addr);
    // 5-7. Connect, answer, relay.
    let result = proxy(state, &routed, admission, selection, req, access).await;
    count(state, &routed, result.as_ref().map(Response::status));
    result
}

/// Counts a handshake that got as far as its own checks or the endpoint, by result.
fn count(state: &State, routed: &Routed, result: Result<StatusCode, &ProxyError>) {
    let outcome = match result {
        Ok(StatusCode::SWITCHING_PROTOCOLS) => {
            routed.route.handles(&state.metrics).upgraded.inc();
            return;
        }
        Ok(_) => "backend_rejected",
        Err(e) => e.reason(),
    };
    let [ns, name] = crate::metrics::route_labels(&routed.route.label);
    state
        .metrics
        .requests
        .handshakes
        .with_label_values(&[ns, name, outcome])
        .inc();
}

/// Connects to the chosen endpoint, forwards the handshake and relays its answer; on `101`
/// the tunnel starts once both sides have upgraded.
async fn proxy<B>(
    state: &Arc<State>,
    routed: &Routed,
    mut admission: Admission,
    mut selection: Selection,
    mut req: Request<B>,
    access: &mut AccessSlot,
) -> Result<Response<Body>, ProxyError> {
    if let Some(ticket) = admission.first_message.take() {
        let access = access.take();
        return first_message::answer(
            state, routed, admission, selection, ticket, &mut req, access,
        );
    }
    let client_upgrade = hyper::upgrade::on(&mut req);
    let upstream = upstream_request(&mut req, &admission.client, routed)?;
    let sent = send_to_endpoint(&state.metrics.requests, routed, &mut selection, upstream).await;
    access.endpoint(selection.endpoint().addr);
    let mut response = sent?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        // The backend refused the upgrade: its answer goes to the client as it is.
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        filters::edit_response(&routed.rule.filters, &mut parts.headers);
        tracing::info!(route = %routed.route.label, endpoint = %selection.endpoint().addr, status = parts.status.as_u16(), "backend refused the WebSocket upgrade");
        return Ok(Response::from_parts(parts, body.boxed()));
    }
    let backend_upgrade = hyper::upgrade::on(&mut response);
    let mut client_resp = Response::new(empty());
    *client_resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let mut headers = std::mem::take(response.headers_mut());
    strip_hop_by_hop(&mut headers);
    set_websocket_upgrade(&mut headers);
    let secure = routed.conn.proto == Proto::Https;
    selection.decorate(&routed.route.policy.affinity, &mut headers, secure);
    // An extension the endpoint accepted may set the reserved bits of frames.
    let mut policy = routed.route.tunnel;
    policy.extensions = headers.contains_key(http::header::SEC_WEBSOCKET_EXTENSIONS);
    filters::edit_response(&routed.rule.filters, &mut headers);
    *client_resp.headers_mut() = headers;
    let handles = routed.route.handles(&state.metrics);
    handles
        .handshake_seconds
        .observe(routed.started.elapsed().as_secs_f64());
    let mut access = access.take();
    if let Some(a) = &mut access {
        a.upgraded();
    }
    let relay = Relay {
        access,
        label: routed.route.label.clone(),
        metrics: handles.clone(),
        policy,
        endpoint: selection.guard,
        _permit: admission.permit,
        client: admission.client.client,
        auth: None,
        rebalance: routed.route.rebalance_code,
    };
    state.tunnels.start(relay, client_upgrade, backend_upgrade);
    Ok(client_resp)
}

#[cfg(test)]
#[path = "upgrade_tests.rs"]
mod tests;
