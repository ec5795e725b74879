//! Connections to endpoints: TCP connect with the route's timeout, TLS when the rule asks
//! for it, and the HTTP/1.1 client handshake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::Body;
use crate::error::ProxyError;
use crate::tls::client::UpstreamConnector;

/// Opens a TCP connection to `addr` within `timeout`.
async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ProxyError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            // Small WebSocket messages must not wait for Nagle.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(source)) => Err(ProxyError::ConnectFailed { addr, source }),
        Err(_) => Err(ProxyError::ConnectTimeout { addr, timeout }),
    }
}

/// Opens an HTTP/1.1 client connection to `addr`, over TLS when `tls` is given (the TLS
/// handshake shares the connect timeout); `upgrades` keeps the I/O for a WebSocket after
/// `101`. Pooled connections are keyed by address only: an endpoint speaks either TLS or
/// plaintext on its port, so a connection that was established is right for it.
pub async fn handshake(
    addr: SocketAddr,
    timeout: Duration,
    upgrades: bool,
    tls: Option<Arc<UpstreamConnector>>,
) -> Result<http1::SendRequest<Body>, ProxyError> {
    let started = Instant::now();
    let stream = connect(addr, timeout).await?;
    match tls {
        None => http1_handshake(addr, TokioIo::new(stream), upgrades).await,
        Some(tls) => {
            let left = timeout.saturating_sub(started.elapsed());
            let stream = match tokio::time::timeout(left, tls.connect(addr, stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(source)) => return Err(ProxyError::ConnectFailed { addr, source }),
                Err(_) => return Err(ProxyError::ConnectTimeout { addr, timeout }),
            };
            http1_handshake(addr, TokioIo::new(stream), upgrades).await
        }
    }
}

async fn http1_handshake<T>(
    addr: SocketAddr,
    io: T,
    upgrades: bool,
) -> Result<http1::SendRequest<Body>, ProxyError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(|source| ProxyError::Upstream { addr, source })?;
    tokio::spawn(async move {
        let result = if upgrades {
            conn.with_upgrades().await
        } else {
            conn.await
        };
        if let Err(e) = result {
            tracing::debug!(endpoint = %addr, error = %e, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}
