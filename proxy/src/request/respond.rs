//! The answers wsgate writes itself: plain-text error responses with the headers each
//! refusal calls for (`Retry-After`, `Sec-WebSocket-Version`, `WWW-Authenticate`).

use http::{HeaderValue, Response, StatusCode, header};

use crate::body::{Body, full};
use crate::error::{ExternalRefusal, ProxyError, Refusal};

/// A `text/plain` response with `status` and `text`.
pub fn plain(status: StatusCode, text: impl Into<bytes::Bytes>) -> Response<Body> {
    let mut resp = Response::new(full(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The response for an error: `<code> <reason>: <what went wrong>`, or the external auth
/// service's own body when it denied the request with one.
pub fn error(e: &ProxyError) -> Response<Body> {
    let status = e.status();
    let mut resp = match e {
        ProxyError::Policy(Refusal::External(ExternalRefusal::Denied { body, .. }))
            if !body.is_empty() =>
        {
            plain(status, body.clone())
        }
        _ => plain(
            status,
            format!(
                "{} {}: {}\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                e.client_message()
            ),
        ),
    };
    let headers = resp.headers_mut();
    if let Some(secs) = e.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    match e {
        ProxyError::BadHandshake(_) => {
            headers.insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        ProxyError::Policy(Refusal::External(ExternalRefusal::Denied {
            www_authenticate: Some(v),
            ..
        })) => {
            headers.insert(header::WWW_AUTHENTICATE, v.clone());
        }
        ProxyError::MethodNotAllowed => {
            headers.insert(
                header::ALLOW,
                HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
            );
        }
        ProxyError::Policy(Refusal::SignIn(location)) => {
            headers.insert(header::LOCATION, location.clone());
        }
        _ => {}
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn l11_503_bodies_show_no_internal_reason() {
        let e = ProxyError::BackendInvalid("secret ns/ticket-key not found".into());
        let resp = error(&e);
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("secret") && !text.contains("ns/"), "{text}");
        assert!(text.contains("backend unavailable"), "{text}");
    }
}
