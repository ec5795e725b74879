//! Sending a request to an endpoint and waiting, at most the route's timeout, for the head
//! of its answer: one function for the WebSocket handshake, plain HTTP and FirstMessage.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;

use crate::body::Body;
use crate::error::ProxyError;

/// A send that failed; `unsent` gives the request back when it never left (the pooled
/// connection had been closed by the endpoint meanwhile), so it can go out again.
pub struct SendFailure {
    /// Why.
    pub error: ProxyError,
    /// The request, if nothing of it was sent.
    pub unsent: Option<Request<Body>>,
}

impl From<SendFailure> for ProxyError {
    fn from(f: SendFailure) -> Self {
        f.error
    }
}

/// Sends `req` on `sender` to the endpoint at `addr` and waits up to `timeout` for the
/// response head.
pub async fn send_with_timeout(
    sender: &mut SendRequest<Body>,
    req: Request<Body>,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<Response<Incoming>, SendFailure> {
    match tokio::time::timeout(timeout, sender.try_send_request(req)).await {
        Err(_) => Err(SendFailure {
            error: ProxyError::UpstreamTimeout { addr, timeout },
            unsent: None,
        }),
        Ok(Ok(response)) => Ok(response),
        Ok(Err(mut e)) => Err(SendFailure {
            unsent: e.take_message(),
            error: ProxyError::Upstream {
                addr,
                source: e.into_error(),
            },
        }),
    }
}
