//! The WebSocket handshake: the client's checked (RFC 6455 4.2.1) before anything is spent
//! on it, the request rebuilt for the endpoint, and its sending to the chosen endpoint with
//! the route's timeouts, upstream TLS, one retry and ejection. The upgrade and FirstMessage
//! paths both use these.

use base64::Engine;
use http::{HeaderMap, Method, Request, Response, Version, header};
use hyper::body::Incoming;
use sha1::{Digest, Sha1};

use super::context::Routed;
use super::headers::{add_forwarded, set_websocket_upgrade, strip_hop_by_hop};
use crate::balance::select::Selection;
use crate::body::{Body, empty};
use crate::error::ProxyError;
use crate::metrics::RequestMetrics;
use crate::policy::client_addr::ClientAddr;
use crate::upstream::connect::handshake;
use crate::upstream::send::send_with_timeout;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Checks the client's handshake: GET, HTTP/1.1, a 16-byte base64 `Sec-WebSocket-Key` and
/// version 13.
pub fn validate(method: &Method, version: Version, headers: &HeaderMap) -> Result<(), ProxyError> {
    if method != Method::GET {
        return Err(ProxyError::BadHandshake("the method must be GET"));
    }
    if version != Version::HTTP_11 {
        return Err(ProxyError::BadHandshake("the request must be HTTP/1.1"));
    }
    // A body cannot be forwarded with an upgrade (the connection turns into frames after
    // it); refusing it beats a backend waiting for bytes that never come.
    let empty_length = headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .all(|v| v.as_bytes() == b"0");
    if !empty_length || headers.contains_key(header::TRANSFER_ENCODING) {
        return Err(ProxyError::BadHandshake(
            "an upgrade request must not have a body",
        ));
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

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 4.2.2).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// The handshake as the endpoint gets it: the client's target and headers (taken from
/// `client_req`) with hop-by-hop headers removed, `Upgrade`/`Connection` rebuilt and
/// forwarded headers added.
pub fn upstream_request<B>(
    client_req: &mut Request<B>,
    client: &ClientAddr,
    routed: &Routed,
) -> Result<Request<Body>, ProxyError> {
    let proto = routed.conn.proto;
    let mut target = client_req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .parse()
        .map_err(|_| ProxyError::BadHandshake("invalid request target"))?;
    let mut headers = std::mem::take(client_req.headers_mut());
    strip_hop_by_hop(&mut headers);
    set_websocket_upgrade(&mut headers);
    add_forwarded(&mut headers, client, proto);
    super::filters::edit_request(&routed.rule.filters, &mut target, &mut headers);
    let mut req = Request::new(empty());
    *req.uri_mut() = target;
    *req.headers_mut() = headers;
    Ok(req)
}

/// Connects to the selected endpoint (over TLS when the rule says so; when the connect
/// fails, the endpoint is ejected and one other is tried) and sends the handshake, waiting
/// the route's handshake timeout for the answer.
pub async fn send_to_endpoint(
    metrics: &RequestMetrics,
    routed: &Routed,
    selection: &mut Selection,
    req: Request<Body>,
) -> Result<Response<Incoming>, ProxyError> {
    let policy = &routed.route.policy;
    let timeout = policy.connect_timeout;
    let tls = &routed.rule.upstream_tls;
    let mut sender = selection
        .connect_with_retry(&routed.route.label, &metrics.retries, |addr| {
            handshake(addr, timeout, true, tls.clone())
        })
        .await?;
    let addr = selection.endpoint().addr;
    Ok(send_with_timeout(&mut sender, req, addr, policy.handshake_timeout).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderValue, StatusCode};

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
        let valid = validate(
            &Method::GET,
            Version::HTTP_11,
            &headers(Some(good), Some("13")),
        );
        assert!(valid.is_ok());
        let cases = [
            (Method::POST, Some(good), Some("13"), "GET"),
            (Method::GET, None, Some("13"), "missing"),
            (Method::GET, Some("not base64!"), Some("13"), "base64"),
            (Method::GET, Some("c2hvcnQ="), Some("13"), "16 bytes"),
            (Method::GET, Some(good), Some("8"), "must be 13"),
            (Method::GET, Some(good), None, "Version is missing"),
        ];
        for (method, key, version, want) in cases {
            let err = validate(&method, Version::HTTP_11, &headers(key, version))
                .expect_err("must be refused");
            assert!(
                err.to_string().contains(want),
                "{err} should mention {want}"
            );
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn accept_key_matches_rfc_6455() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
