//! The WebSocket upgrade path: validate the handshake, forward it to the endpoint, answer the
//! client with the endpoint's `101`, then run the tunnel on both upgraded streams.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use http::{HeaderMap, Method, Request, Response, StatusCode, Version, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::error::{Body, ProxyError};
use crate::handler::{ConnInfo, Target};
use crate::headers::{add_forwarded, set_websocket_upgrade, strip_hop_by_hop};
use crate::select;
use crate::server::Shared;
use crate::upstream::handshake_with;
use wsgate_tunnel::TunnelConfig;

/// Checks the client's handshake (RFC 6455 4.2.1) before anything reaches the backend.
pub fn validate_handshake(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
) -> Result<(), ProxyError> {
    if method != Method::GET {
        return Err(ProxyError::BadHandshake("the method must be GET"));
    }
    if version != Version::HTTP_11 {
        return Err(ProxyError::BadHandshake("the request must be HTTP/1.1"));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(ProxyError::BadHandshake("Sec-WebSocket-Key is missing"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .map_err(|_| ProxyError::BadHandshake("Sec-WebSocket-Key is not base64"))?;
    if decoded.len() != 16 {
        return Err(ProxyError::BadHandshake(
            "Sec-WebSocket-Key must encode 16 bytes",
        ));
    }
    match headers.get(header::SEC_WEBSOCKET_VERSION) {
        Some(v) if v == "13" => Ok(()),
        Some(_) => Err(ProxyError::BadHandshake("Sec-WebSocket-Version must be 13")),
        None => Err(ProxyError::BadHandshake("Sec-WebSocket-Version is missing")),
    }
}

/// Proxies a WebSocket handshake and, on `101`, starts the tunnel.
pub async fn proxy(
    shared: &Arc<Shared>,
    target: Target,
    mut req: Request<Incoming>,
    conn: ConnInfo,
) -> Result<Response<Body>, ProxyError> {
    let started = Instant::now();
    let label = target.route.label.clone();
    let result = proxy_inner(shared, target, &mut req, conn, started).await;
    let outcome = match &result {
        Ok(resp) if resp.status() == StatusCode::SWITCHING_PROTOCOLS => "upgraded",
        Ok(_) => "backend_rejected",
        Err(e) => e.reason(),
    };
    shared
        .metrics
        .handshakes
        .with_label_values(&[&label, outcome])
        .inc();
    result
}

async fn proxy_inner(
    shared: &Arc<Shared>,
    mut target: Target,
    req: &mut Request<Incoming>,
    conn: ConnInfo,
    started: Instant,
) -> Result<Response<Body>, ProxyError> {
    validate_handshake(req.method(), req.version(), req.headers())?;
    let admission = req.extensions_mut().remove::<crate::policy::Admission>();
    if let Some((ticket, wait)) = admission.as_ref().and_then(|a| a.first_message.clone()) {
        req.extensions_mut().insert(admission.unwrap_or_default());
        return crate::auth::first_message::serve(shared, target, req, conn, ticket, wait);
    }
    let policy = target.route.policy.clone();
    let client_upgrade = hyper::upgrade::on(&mut *req);

    let mut headers = std::mem::take(req.headers_mut());
    strip_hop_by_hop(&mut headers);
    set_websocket_upgrade(&mut headers);
    let client = crate::client_addr::ClientAddr::of(req.extensions(), conn.peer);
    add_forwarded(&mut headers, &client, conn.proto);
    let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let mut upstream_req = Request::new(Empty::new().map_err(|never| match never {}).boxed());
    *upstream_req.uri_mut() = path
        .parse()
        .map_err(|_| ProxyError::BadHandshake("invalid request target"))?;
    *upstream_req.headers_mut() = headers;

    let timeout = policy.connect_timeout;
    let tls = target.upstream_tls.clone();
    let mut sender = select::connect_with_retry(shared, &mut target, |a| {
        handshake_with(a, timeout, true, tls.clone())
    })
    .await?;
    let addr = target.guard.endpoint().addr;
    let mut response =
        match tokio::time::timeout(policy.handshake_timeout, sender.send_request(upstream_req))
            .await
        {
            Err(_) => {
                return Err(ProxyError::UpstreamTimeout {
                    addr,
                    timeout: policy.handshake_timeout,
                });
            }
            Ok(r) => r.map_err(|source| ProxyError::Upstream { addr, source })?,
        };
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        // The backend refused the upgrade: its answer goes to the client as it is.
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        tracing::info!(route = %target.route.label, endpoint = %addr, status = parts.status.as_u16(), "backend refused the WebSocket upgrade");
        return Ok(Response::from_parts(parts, body.boxed()));
    }
    let backend_upgrade = hyper::upgrade::on(&mut response);
    let mut client_resp = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *client_resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let mut resp_headers = std::mem::take(response.headers_mut());
    strip_hop_by_hop(&mut resp_headers);
    set_websocket_upgrade(&mut resp_headers);
    select::decorate_response(&target, &mut resp_headers, conn.proto == "https");
    *client_resp.headers_mut() = resp_headers;

    let metrics = shared.metrics.clone();
    metrics
        .handshake_seconds
        .with_label_values(&[&target.route.label])
        .observe(started.elapsed().as_secs_f64());
    let cfg = TunnelConfig {
        policy: tunnel_policy(&policy),
        meter: metrics.tunnel_counters(&target.route.label),
        drain: target.guard.endpoint().drain.clone(),
        shutdown: shared.shutdown.clone(),
        shutdown_spread: shared.shutdown_spread,
    };
    shared.tunnels.spawn(async move {
        let (client, backend) = match tokio::try_join!(client_upgrade, backend_upgrade) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::info!(route = %target.route.label, client = %conn.peer, error = %e, "upgrade did not complete");
                return;
            }
        };
        let label = target.route.label.clone();
        let active = metrics.active_connections.with_label_values(&[&label]);
        active.inc();
        let opened = Instant::now();
        let summary = wsgate_tunnel::run(TokioIo::new(client), TokioIo::new(backend), cfg).await;
        active.dec();
        let secs = opened.elapsed().as_secs_f64();
        metrics.connection_seconds.with_label_values(&[&label]).observe(secs);
        metrics
            .closes
            .with_label_values(&[&label, summary.reason.as_str()])
            .inc();
        tracing::info!(
            target: "wsgate::access",
            route = %label,
            client = %conn.peer,
            endpoint = %addr,
            duration_s = secs,
            messages_in = summary.messages_up,
            messages_out = summary.messages_down,
            bytes_in = summary.bytes_up,
            bytes_out = summary.bytes_down,
            close = summary.reason.as_str(),
            "websocket closed"
        );
        drop(target.guard);
        drop(admission);
    });
    Ok(client_resp)
}

/// The part of a route's policy the tunnel enforces.
pub fn tunnel_policy(p: &wsgate_core::table::RoutePolicy) -> wsgate_tunnel::TunnelPolicy {
    wsgate_tunnel::TunnelPolicy {
        max_message_bytes: p.max_message_bytes,
        idle_timeout: p.idle_timeout,
        idle_counts_control: p.idle_counts_control,
        keepalive: p.keepalive.map(|k| wsgate_tunnel::Keepalive {
            interval: k.interval,
            pong_timeout: k.pong_timeout,
        }),
        drain: wsgate_tunnel::Drain {
            close_code: p.drain.close_code,
            period: p.drain.period,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(key: Option<&'static str>, version: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(k) = key {
            h.insert(header::SEC_WEBSOCKET_KEY, HeaderValue::from_static(k));
        }
        if let Some(v) = version {
            h.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn accepts_a_valid_handshake_and_names_each_defect() {
        let good = "dGhlIHNhbXBsZSBub25jZQ==";
        assert!(
            validate_handshake(
                &Method::GET,
                Version::HTTP_11,
                &headers(Some(good), Some("13"))
            )
            .is_ok()
        );
        let cases = [
            (Method::POST, Some(good), Some("13"), "GET"),
            (Method::GET, None, Some("13"), "missing"),
            (Method::GET, Some("not base64!"), Some("13"), "base64"),
            (Method::GET, Some("c2hvcnQ="), Some("13"), "16 bytes"),
            (Method::GET, Some(good), Some("8"), "must be 13"),
            (Method::GET, Some(good), None, "Version is missing"),
        ];
        for (method, key, version, want) in cases {
            let err = validate_handshake(&method, Version::HTTP_11, &headers(key, version))
                .expect_err("must be refused");
            assert!(
                err.to_string().contains(want),
                "{err} should mention {want}"
            );
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
    }
}
