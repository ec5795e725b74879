//! What a listener does with a new connection before HTTP: read the PROXY protocol header
//! (when the listener expects one) and the first request head within the header deadline.

use std::net::SocketAddr;

use prometheus::IntCounterVec;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wsgate_core::table::security::{HeadLimits, ListenerOptions};
use wsgate_tunnel::Prefixed;

use super::head::{FirstHead, read_first_head};
use super::proxy_protocol::{ProxyHeaderError, read_header};

/// The client address of a new connection: the PROXY header's source when the listener
/// expects one, else `peer`. `None`: the header was missing or broken; drop the connection.
/// Failures are counted on `errors` by reason.
pub async fn client_of(
    opts: &ListenerOptions,
    errors: &IntCounterVec,
    stream: &mut TcpStream,
    peer: SocketAddr,
) -> Option<SocketAddr> {
    if !opts.proxy_protocol {
        return Some(peer);
    }
    match tokio::time::timeout(opts.head.read_timeout, read_header(stream)).await {
        Ok(Ok(source)) => Some(source.unwrap_or(peer)),
        Ok(Err(e)) => {
            let reason = match e {
                ProxyHeaderError::Missing => "missing",
                ProxyHeaderError::Malformed(_) => "malformed",
                ProxyHeaderError::Io(_) => "io",
            };
            errors.with_label_values(&[reason]).inc();
            tracing::info!(peer = %peer, error = %e, "connection dropped: PROXY protocol header");
            None
        }
        Err(_) => {
            errors.with_label_values(&["timeout"]).inc();
            None
        }
    }
}

/// The stream with its first request head read ahead; `None` if the client left or was too
/// slow (it got a 408, counted on `timeouts` by listener).
pub async fn first_head<S>(
    limits: &HeadLimits,
    timeouts: &IntCounterVec,
    mut stream: S,
    peer: SocketAddr,
    listener: &str,
) -> Option<Prefixed<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match read_first_head(&mut stream, limits).await {
        FirstHead::Ready(head) => Some(Prefixed::new(head, stream)),
        FirstHead::Gone => None,
        FirstHead::TimedOut => {
            timeouts.with_label_values(&[listener]).inc();
            tracing::info!(client = %peer, listener, status = 408, "request head too slow: connection closed");
            None
        }
    }
}
