//! What a listener does with a new connection before HTTP: read the PROXY protocol header
//! (when the listener expects one) and the first request head within the header deadline.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::client_addr::proxy_protocol::{ProxyHeaderError, read_header};
use crate::limits::head::{FirstHead, read_first_head};
use crate::server::Shared;
use wsgate_tunnel::Prefixed;

/// The client address of a new connection: the PROXY header's source when the listener
/// expects one, else `peer`. `None`: the header was missing or broken; drop the connection.
pub async fn client_of(
    shared: &Shared,
    stream: &mut TcpStream,
    peer: SocketAddr,
) -> Option<SocketAddr> {
    let opts = &shared.security.listener;
    if !opts.proxy_protocol {
        return Some(peer);
    }
    let errors = &shared.metrics.security.proxy_protocol_errors;
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
/// slow (it got a 408).
pub async fn first_head<S>(
    shared: &Shared,
    mut stream: S,
    peer: SocketAddr,
    listener: &str,
) -> Option<Prefixed<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match read_first_head(&mut stream, &shared.security.listener.head).await {
        FirstHead::Ready(head) => Some(Prefixed::new(head, stream)),
        FirstHead::Gone => None,
        FirstHead::TimedOut => {
            shared
                .metrics
                .security
                .header_timeouts
                .with_label_values(&[listener])
                .inc();
            tracing::info!(client = %peer, listener, status = 408, "request head too slow: connection closed");
            None
        }
    }
}
