//! Plain HTTP requests (Socket.IO long-polling, health pages) proxied over pooled
//! keep-alive connections to the chosen endpoint.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;

use crate::endpoint::EndpointGuard;
use crate::error::{Body, ProxyError};
use crate::handler::{ConnInfo, Target};
use crate::headers::{add_forwarded, strip_hop_by_hop};
use crate::select;
use crate::server::Shared;
use crate::upstream::handshake_with;

/// Forwards `req` to the target endpoint and streams the response back.
pub async fn proxy(
    shared: &Arc<Shared>,
    mut target: Target,
    req: Request<Incoming>,
    conn: ConnInfo,
) -> Result<Response<Body>, ProxyError> {
    let policy = target.route.policy.clone();
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let client = crate::client_addr::ClientAddr::of(&parts.extensions, conn.peer);
    add_forwarded(&mut parts.headers, &client, conn.proto);
    parts.uri = origin_form(&parts.uri);
    parts.version = http::Version::HTTP_11;
    let mut upstream_req = Request::from_parts(parts, body.boxed());

    // A pooled connection may have been closed by the backend meanwhile: then the request
    // comes back unsent and goes out once more on a fresh connection.
    let pooled = shared.pool.take(target.guard.endpoint().addr);
    let mut sender = match pooled {
        Some(s) => s,
        None => {
            let timeout = policy.connect_timeout;
            let tls = target.upstream_tls.clone();
            select::connect_with_retry(shared, &mut target, |a| {
                handshake_with(a, timeout, false, tls.clone())
            })
            .await?
        }
    };
    let addr = target.guard.endpoint().addr;
    let send = |sender: &mut SendRequest<Body>, req| sender.try_send_request(req);
    let response =
        match tokio::time::timeout(policy.request_timeout, send(&mut sender, upstream_req)).await {
            Err(_) => {
                return Err(ProxyError::UpstreamTimeout {
                    addr,
                    timeout: policy.request_timeout,
                });
            }
            Ok(Ok(resp)) => resp,
            Ok(Err(mut e)) => match e.take_message() {
                Some(unsent) => {
                    upstream_req = unsent;
                    let tls = target.upstream_tls.clone();
                    sender = handshake_with(addr, policy.connect_timeout, false, tls).await?;
                    match tokio::time::timeout(
                        policy.request_timeout,
                        sender.send_request(upstream_req),
                    )
                    .await
                    {
                        Err(_) => {
                            return Err(ProxyError::UpstreamTimeout {
                                addr,
                                timeout: policy.request_timeout,
                            });
                        }
                        Ok(r) => r.map_err(|source| ProxyError::Upstream { addr, source })?,
                    }
                }
                None => {
                    return Err(ProxyError::Upstream {
                        addr,
                        source: e.into_error(),
                    });
                }
            },
        };
    let code = response.status();
    shared
        .metrics
        .http_requests
        .with_label_values(&[&target.route.label, code.as_str()])
        .inc();
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    select::decorate_response(&target, &mut parts.headers, conn.proto == "https");
    let learn = select::session_to_learn(shared, &target, parts.status);
    let body = PooledBody {
        inner: body,
        release: Some(Release {
            pool: shared.clone(),
            sender,
        }),
        _guard: target.guard,
    };
    Ok(Response::from_parts(
        parts,
        select::learn_session(body.boxed(), learn),
    ))
}

/// `/path?query` from whatever form the client used.
fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(pq) => Uri::from(pq.clone()),
        None => Uri::from_static("/"),
    }
}

struct Release {
    pool: Arc<Shared>,
    sender: SendRequest<Body>,
}

/// A response body that returns its connection to the pool once read to the end, and
/// counts as in flight on its endpoint until then.
struct PooledBody {
    inner: Incoming,
    release: Option<Release>,
    _guard: EndpointGuard,
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
        if let Poll::Ready(None) = polled {
            this.release_connection();
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
    fn release_connection(&mut self) {
        if let Some(Release { pool, mut sender }) = self.release.take() {
            let addr = self._guard.endpoint().addr;
            // The connection turns ready once hyper has finished the exchange.
            tokio::spawn(async move {
                if sender.ready().await.is_ok() {
                    pool.pool.put(addr, sender);
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
    }
}
