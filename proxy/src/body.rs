//! The body type of every response the proxy sends, and its two constructors.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};

/// Response body of the proxy: a backend's streamed body or one wsgate wrote itself.
pub type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

/// A complete body from bytes.
pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body (a `101`, or a request with nothing to send).
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}
