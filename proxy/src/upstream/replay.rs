//! Sending a request a second time. A reused keep-alive connection can be closed by the
//! endpoint just as a request goes out on it (the endpoint's own idle timeout fired); the
//! request may or may not have been read. An idempotent request without a body is then sent
//! again on a fresh connection, as nginx does for idempotent methods; anything else is
//! answered 502 and never sent twice.

use std::io;

use http::{HeaderMap, Method, Request, Uri, Version};
use hyper::body::Body as _;

use crate::body::{self, Body};

/// What is needed to send a bodiless idempotent request again.
pub struct Replay {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
}

impl Replay {
    /// A copy of `req` to send again, when it is idempotent (RFC 9110 9.2.2) and has no body.
    pub fn of(req: &Request<Body>) -> Option<Replay> {
        let idempotent = matches!(
            *req.method(),
            Method::GET
                | Method::HEAD
                | Method::OPTIONS
                | Method::TRACE
                | Method::PUT
                | Method::DELETE
        );
        (idempotent && req.body().is_end_stream()).then(|| Replay {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
        })
    }

    /// The request again, with its empty body.
    pub fn request(self) -> Request<Body> {
        let mut req = Request::new(body::empty());
        *req.method_mut() = self.method;
        *req.uri_mut() = self.uri;
        *req.version_mut() = self.version;
        *req.headers_mut() = self.headers;
        req
    }
}

/// Whether `e` says the connection was closed under the request before a response came:
/// the endpoint closed an idle keep-alive connection as the request went out.
pub fn closed_by_endpoint(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() || e.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionAborted
            );
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_idempotent_requests_are_replayed() {
        let get = Request::get("/a").body(body::empty()).expect("req");
        assert!(Replay::of(&get).is_some());
        let post = Request::post("/a").body(body::empty()).expect("req");
        assert!(Replay::of(&post).is_none(), "POST is never sent twice");
        let put_body = Request::put("/a").body(body::full("x")).expect("req");
        assert!(
            Replay::of(&put_body).is_none(),
            "a body cannot be read twice"
        );
    }

    #[test]
    fn a_replayed_request_keeps_method_target_and_headers() {
        let get = Request::get("/a?b=c")
            .header("x-request-id", "r1")
            .body(body::empty())
            .expect("req");
        let again = Replay::of(&get).expect("replay").request();
        assert_eq!(again.method(), Method::GET);
        assert_eq!(again.uri(), "/a?b=c");
        assert_eq!(again.headers()["x-request-id"], "r1");
    }
}
