//! Plain HTTP requests (Socket.IO long-polling, health pages): route, policy, choose, then
//! a pooled keep-alive connection to the endpoint (or a new one), the response streamed
//! back with what affinity needs.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;

use super::context::{self, ConnInfo, Proto, Routed};
use super::filters;
use super::headers::{add_forwarded, strip_hop_by_hop};
use super::redirect;
use crate::access::{Access, AccessSlot};
use crate::balance::endpoint::EndpointGuard;
use crate::balance::learn::learn_session;
use crate::balance::select::Selection;
use crate::body::Body;
use crate::error::ProxyError;
use crate::policy::client_addr::ClientAddr;
use crate::state::State;
use crate::upstream::connect::handshake;
use crate::upstream::pool::Pool;
use crate::upstream::replay::{Replay, closed_by_endpoint};
use crate::upstream::send::{SendFailure, send_with_timeout};

/// Serves a plain HTTP request: a `308` to https when its route asks for it on the
/// plaintext listener, else the endpoint's response.
pub async fn serve(
    state: &Arc<State>,
    mut req: Request<Incoming>,
    conn: ConnInfo,
    access: &mut AccessSlot,
) -> Result<Response<Body>, ProxyError> {
    let routed = {
        let router = state.router.load();
        if conn.proto == Proto::Http {
            let http_requests = &state.metrics.requests.http_requests;
            let via_https = state
                .security
                .forwarded_https(conn.peer.ip(), req.headers());
            let certs = state.certs.load();
            if let Some(r) =
                redirect::for_route(&router, &certs, http_requests, &req, false, via_https)
            {
                return r;
            }
        }
        context::route(
            &router,
            state.draining.is_cancelled(),
            &req,
            conn.clone(),
            Instant::now(),
        )?
    };
    if let Some(r) = filters::redirect(&routed.rule.filters, &req, conn.proto) {
        let code = r.status();
        let requests = &state.metrics.requests.http_requests;
        let [ns, name] = crate::metrics::route_labels(&routed.route.label);
        requests.with_label_values(&[ns, name, code.as_str()]).inc();
        return Ok(r);
    }
    let route = &routed.route;
    access.route(route);
    let client = state
        .security
        .admit_http(
            &state.metrics.security,
            &route.label,
            &route.policy.security,
            &mut req,
            conn.peer.ip(),
            conn.proto.as_str(),
        )
        .await?;
    let mut selection = context::choose(state, &routed, &req, client.client).await?;
    let upstream = upstream_request(req, &client, &routed);
    let result = exchange(state, &routed, &mut selection, upstream).await;
    access.endpoint(selection.endpoint().addr);
    let (sender, response) = result?;
    Ok(respond(state, &routed, selection, sender, response, access))
}

/// The request as the endpoint gets it: origin-form target, HTTP/1.1, hop-by-hop headers
/// removed, forwarded headers added.
fn upstream_request(req: Request<Incoming>, client: &ClientAddr, routed: &Routed) -> Request<Body> {
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    add_forwarded(&mut parts.headers, client, routed.conn.proto);
    parts.uri = origin_form(&parts.uri);
    filters::edit_request(&routed.rule.filters, &mut parts.uri, &mut parts.headers);
    parts.version = http::Version::HTTP_11;
    Request::from_parts(parts, body.boxed())
}

/// Sends the request on a pooled connection to the chosen endpoint, or a new one (with
/// retry and ejection). A pooled connection may have been closed by the backend meanwhile:
/// then the request goes out once more on a fresh connection if nothing of it was sent, or
/// if it is idempotent and bodiless (`Replay`); otherwise the answer is 502.
async fn exchange(
    state: &State,
    routed: &Routed,
    selection: &mut Selection,
    req: Request<Body>,
) -> Result<(SendRequest<Body>, Response<Incoming>), ProxyError> {
    let policy = &routed.route.policy;
    let tls = &routed.rule.upstream_tls;
    let key = (selection.endpoint().addr, routed.rule.tls_settings.clone());
    let (mut sender, replay) = match state.pool.take(&key) {
        Some(s) => (s, Replay::of(&req)),
        None => {
            let retries = &state.metrics.requests.retries;
            let timeout = policy.connect_timeout;
            let sender = selection
                .connect_with_retry(&routed.route.label, retries, |addr| {
                    handshake(addr, timeout, false, tls.clone())
                })
                .await?;
            return send_once(sender, req, selection, policy.request_timeout).await;
        }
    };
    let addr = selection.endpoint().addr;
    let req = match send_with_timeout(&mut sender, req, addr, policy.request_timeout).await {
        Ok(response) => return Ok((sender, response)),
        Err(SendFailure {
            unsent: Some(req), ..
        }) => req,
        Err(f) => match (f.error, replay) {
            (ProxyError::Upstream { source, .. }, Some(replay)) if closed_by_endpoint(&source) => {
                replay.request()
            }
            (error, _) => return Err(error),
        },
    };
    let sender = handshake(addr, policy.connect_timeout, false, tls.clone()).await?;
    send_once(sender, req, selection, policy.request_timeout).await
}

/// Sends `req` on a fresh connection to the selected endpoint.
async fn send_once(
    mut sender: SendRequest<Body>,
    req: Request<Body>,
    selection: &Selection,
    timeout: std::time::Duration,
) -> Result<(SendRequest<Body>, Response<Incoming>), ProxyError> {
    let addr = selection.endpoint().addr;
    let response = send_with_timeout(&mut sender, req, addr, timeout).await?;
    Ok((sender, response))
}

/// The endpoint's response for the client: counted, hop-by-hop headers removed, the
/// affinity cookie added, a Socket.IO session learned as the body streams; the connection
/// goes back to the pool once the body is read.
fn respond(
    state: &State,
    routed: &Routed,
    mut selection: Selection,
    sender: SendRequest<Body>,
    response: Response<Incoming>,
    access: &mut AccessSlot,
) -> Response<Body> {
    let code = response.status();
    let [ns, name] = crate::metrics::route_labels(&routed.route.label);
    state
        .metrics
        .requests
        .http_requests
        .with_label_values(&[ns, name, code.as_str()])
        .inc();
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let secure = routed.conn.proto == Proto::Https;
    selection.decorate(&routed.route.policy.affinity, &mut parts.headers, secure);
    filters::edit_response(&routed.rule.filters, &mut parts.headers);
    let learn = selection.session_to_learn(&state.sessions, parts.status);
    let body = PooledBody {
        inner: body,
        release: Some(Release {
            pool: state.pool.clone(),
            tls: routed.rule.tls_settings.clone(),
            sender,
        }),
        _guard: selection.guard,
        access: access.take(),
        status: code.as_u16(),
        bytes_out: 0,
    };
    Response::from_parts(parts, learn_session(body.boxed(), learn))
}

/// `/path?query` from whatever form the client used.
fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(pq) => Uri::from(pq.clone()),
        None => Uri::from_static("/"),
    }
}

struct Release {
    pool: Arc<Pool>,
    /// The TLS settings the connection was opened with (its pool key, with the endpoint).
    tls: Option<Arc<wsgate_core::table::UpstreamTls>>,
    sender: SendRequest<Body>,
}

/// A response body that returns its connection to the pool once read to the end, and
/// counts as in flight on its endpoint until then.
struct PooledBody {
    inner: Incoming,
    release: Option<Release>,
    _guard: EndpointGuard,
    /// The request's access-log line, written when the body ends or is dropped.
    access: Option<Box<Access>>,
    status: u16,
    bytes_out: u64,
}

impl HttpBody for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes_out += data.len() as u64;
                }
            }
            Poll::Ready(None) => {
                this.release_connection();
                this.log();
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl PooledBody {
    /// Writes the access-log line once.
    fn log(&mut self) {
        if let Some(access) = self.access.take() {
            access.http_done(self.status, Some(self.bytes_out), None);
        }
    }

    fn release_connection(&mut self) {
        if let Some(Release {
            pool,
            tls,
            mut sender,
        }) = self.release.take()
        {
            let addr = self._guard.endpoint().addr;
            // The connection turns ready once hyper has finished the exchange.
            tokio::spawn(async move {
                if sender.ready().await.is_ok() {
                    pool.put((addr, tls), sender);
                }
            });
        }
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // A body that was complete but never polled to its end still frees its connection.
        if self.inner.is_end_stream() {
            self.release_connection();
        }
        self.log();
    }
}
