//! External authorization (like nginx `auth_request`): wsgate asks an HTTP service about each
//! handshake, sending the original method, URI and the configured headers. 2xx admits (and
//! may pass headers upstream), 401/403 go back to the client, anything else refuses with 503.

use std::net::IpAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use wsgate_core::table::security::ExternalAuth;

use crate::error::ExternalRefusal;

/// Largest auth-service body passed back to a refused client.
const MAX_DENY_BODY: usize = 4096;

/// Asks the service about a request; on admission returns headers to add upstream.
/// `uri` is the request's path and query with any ticket already removed.
pub async fn check(
    auth: &ExternalAuth,
    method: &Method,
    uri: &str,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<HeaderMap, ExternalRefusal> {
    let mut req = Request::new(Empty::<Bytes>::new());
    *req.method_mut() = auth.method.clone().unwrap_or_else(|| method.clone());
    *req.uri_mut() = auth
        .path
        .parse()
        .map_err(|_| ExternalRefusal::Unavailable("bad_url"))?;
    let h = req.headers_mut();
    for name in &auth.forward_headers {
        for v in headers.get_all(name) {
            h.append(name.clone(), v.clone());
        }
    }
    if let Ok(host) = HeaderValue::from_str(&auth.authority) {
        h.insert(header::HOST, host);
    }
    let original = [
        (
            "x-original-method",
            HeaderValue::from_str(method.as_str()).ok(),
        ),
        ("x-original-uri", HeaderValue::from_str(uri).ok()),
        ("x-forwarded-host", headers.get(header::HOST).cloned()),
        (
            "x-forwarded-for",
            HeaderValue::from_str(&client.to_string()).ok(),
        ),
    ];
    for (name, value) in original {
        if let Some(v) = value {
            h.insert(name, v);
        }
    }
    match tokio::time::timeout(auth.timeout, exchange(auth, req)).await {
        Err(_) => Err(ExternalRefusal::Unavailable("timeout")),
        Ok(result) => result,
    }
}

async fn exchange(
    auth: &ExternalAuth,
    req: Request<Empty<Bytes>>,
) -> Result<HeaderMap, ExternalRefusal> {
    let stream = TcpStream::connect(&auth.authority)
        .await
        .map_err(|_| ExternalRefusal::Unavailable("connect"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ExternalRefusal::Unavailable("handshake"))?;
    tokio::spawn(conn);
    let resp = sender
        .send_request(req)
        .await
        .map_err(|_| ExternalRefusal::Unavailable("request"))?;
    let status = resp.status();
    if status.is_success() {
        let mut upstream = HeaderMap::new();
        for name in &auth.response_headers {
            for v in resp.headers().get_all(name) {
                upstream.append(name.clone(), v.clone());
            }
        }
        return Ok(upstream);
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let www_authenticate = resp.headers().get(header::WWW_AUTHENTICATE).cloned();
        let body = Limited::new(resp.into_body(), MAX_DENY_BODY)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        return Err(ExternalRefusal::Denied {
            status,
            body,
            www_authenticate,
        });
    }
    Err(ExternalRefusal::Unavailable("unexpected_status"))
}
