//! Learning a Socket.IO session from its handshake response: the body is watched as it
//! streams to the client, and the open packet's `sid` is recorded against the endpoint that
//! answered before the client can send the session's next request. With a shared table the
//! frame carrying the open packet is held until the shared store confirmed the session (or
//! its short budget ran out), so another replica already finds it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::task::JoinHandle;

use super::endpoint::{EndpointGuard, EndpointState};
use super::sessions::{SessionStore, parse_open_packet};
use crate::body::Body;

/// How many handshake-response bytes are inspected for the open packet.
const SNIFF_LIMIT: usize = 4096;

/// Where a handshake response's session is recorded.
pub struct Learn {
    /// The store.
    pub store: Arc<SessionStore>,
    /// Endpoint that answered.
    pub endpoint: Arc<EndpointState>,
    /// The count the session holds on its endpoint from its handshake on (handed to the
    /// session entry; released with the body if no session is learned).
    pub hold: Option<EndpointGuard>,
    /// Fixed entry lifetime; `None` follows the open packet.
    pub ttl: Option<Duration>,
}

/// A response body that records the open packet's sid before the client can see it, so
/// the session's next request already finds its entry.
pub struct SniffBody {
    inner: Body,
    seen: Vec<u8>,
    learn: Option<Learn>,
    /// The open packet's frame, released once the shared table has the session.
    held: Option<(Frame<Bytes>, JoinHandle<bool>)>,
}

impl SniffBody {
    /// Wraps a handshake response body.
    pub fn new(inner: Body, learn: Learn) -> Self {
        Self {
            inner,
            seen: Vec::new(),
            learn: Some(learn),
            held: None,
        }
    }

    /// Looks for the open packet; once found, learns the session and returns the
    /// publication to the shared table, if there is one.
    fn observe(&mut self, data: &Bytes) -> Option<JoinHandle<bool>> {
        let learn = self.learn.as_mut()?;
        let room = SNIFF_LIMIT.saturating_sub(self.seen.len());
        self.seen.extend_from_slice(&data[..data.len().min(room)]);
        if let Some((sid, session_ttl)) = parse_open_packet(&self.seen) {
            let ep = &learn.endpoint;
            let ttl = learn.ttl.unwrap_or(session_ttl);
            let hold = learn.hold.take().or_else(|| Some(ep.hold()));
            learn.store.learn(&sid, ep.addr, ttl, hold);
            tracing::debug!(endpoint = %ep.addr, "Socket.IO session learned");
            let addr = ep.addr;
            let remote = learn.store.remote().cloned();
            self.learn = None;
            return remote.map(|r| tokio::spawn(async move { r.publish(&sid, addr, ttl).await }));
        } else if self.seen.len() >= SNIFF_LIMIT {
            self.learn = None;
        }
        None
    }
}

impl HttpBody for SniffBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        if let Some((_, publishing)) = &mut this.held {
            // The publication is bounded by its own budget; its result only says whether
            // other replicas will know the session.
            let _ = ready!(Pin::new(publishing).poll(cx));
            return Poll::Ready(this.held.take().map(|(frame, _)| Ok(frame)));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                let publishing = frame.data_ref().and_then(|data| this.observe(data));
                match publishing {
                    Some(p) => {
                        this.held = Some((frame, p));
                        Pin::new(this).poll_frame(cx)
                    }
                    None => Poll::Ready(Some(Ok(frame))),
                }
            }
            other => {
                if !matches!(other, Poll::Pending) {
                    this.learn = None;
                }
                other
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Wraps a response body so the session in its open packet is learned as it streams.
pub fn learn_session(body: Body, learn: Option<Learn>) -> Body {
    match learn {
        Some(learn) => http_body_util::BodyExt::boxed(SniffBody::new(body, learn)),
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::net::SocketAddr;

    use http_body_util::BodyExt;

    use super::*;
    use crate::balance::endpoint::EndpointRegistry;
    use crate::metrics::Metrics;

    const OPEN: &[u8] = br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// A body delivered in the given chunks.
    struct Chunks(VecDeque<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = hyper::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test]
    async fn sniffing_learns_the_sid_from_a_split_body_and_passes_it_unchanged() {
        let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
        let registry = EndpointRegistry::new(Default::default(), metrics.endpoints);
        let endpoint = registry.get(addr(7));
        let store = Arc::new(SessionStore::default());
        let chunks = Chunks(VecDeque::from([
            Bytes::from_static(&OPEN[..10]),
            Bytes::from_static(&OPEN[10..]),
        ]));
        let inner: Body = chunks.boxed();
        let learn = Learn {
            store: store.clone(),
            endpoint: endpoint.clone(),
            ttl: None,
            hold: Some(endpoint.hold()),
        };
        assert_eq!(endpoint.active(), 1, "the handshake counts as its session");
        let body = SniffBody::new(inner, learn)
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], OPEN);
        // The session counts on its endpoint while it polls, and stops once it upgrades.
        assert_eq!(endpoint.active(), 1);
        let sid = "lv_VI97HAXpY6yYWAAAC";
        assert_eq!(store.find(sid, false), Some((addr(7), true)));
        assert_eq!(endpoint.active(), 1);
        assert_eq!(store.lookup(sid, true), Some(addr(7)));
        assert_eq!(endpoint.active(), 0);
        assert_eq!(store.find(sid, false), Some((addr(7), false)));
    }
}
