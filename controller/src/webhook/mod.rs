//! The admission webhooks the controller serves over HTTPS: `/inject` (mutating: the sidecar
//! added to pods of opted-in namespaces and workloads) and `/validate` (WebSocketRoutes and
//! Ingresses of wsgate's class refused at apply time when the controller would refuse them).
//!
//! ```text
//!  API server ─HTTPS POST AdmissionReview─> serve ─┬─> /inject   ─> mutate::review   ─> JSON Patch
//!   (certificate from files, reloaded on rotation) └─> /validate ─> validate::review ─> allowed?
//!                                                       (against the index as last rebuilt)
//! ```

pub mod certs;
pub mod mutate;
pub mod validate;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// The API server sends at most a few MiB; more is refused before it is read.
const MAX_BODY_BYTES: usize = 4 << 20;
/// Time a connection has for its TLS handshake and request head.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the webhooks need.
#[derive(Clone, Debug)]
pub struct Webhooks {
    /// Image of the injected sidecar.
    pub image: Arc<str>,
    /// The translation index as of the last rebuild.
    pub snapshot: tokio::sync::watch::Receiver<Arc<crate::translate::Index>>,
}

/// Serves the webhooks on `listener` with `tls` until `stop`.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    hooks: Webhooks,
    stop: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (acceptor, hooks) = (acceptor.clone(), hooks.clone());
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    return tracing::debug!(client = %peer, error = %e, "webhook TLS handshake failed");
                }
                Err(_) => return,
            };
            let service = service_fn(move |req| handle(hooks.clone(), req));
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn handle(
    hooks: Webhooks,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::POST {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "use POST\n"));
    }
    let path = req.uri().path().to_string();
    if path != "/inject" && path != "/validate" {
        return Ok(plain(StatusCode::NOT_FOUND, "not found\n"));
    }
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) => return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("{e}\n"))),
    };
    let answer = if path == "/inject" {
        mutate::review(&body, &hooks.image)
    } else {
        let snapshot = hooks.snapshot.borrow().clone();
        validate::review(&body, &snapshot)
    };
    let mut resp = Response::new(Full::new(Bytes::from(answer.to_string())));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(text.to_string())));
    *resp.status_mut() = status;
    resp
}
