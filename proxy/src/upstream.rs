//! Connections to endpoints: TCP connect with the route's timeout, HTTP/1.1 client
//! handshakes, and a small per-endpoint pool of idle keep-alive connections.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::{Body, ProxyError};
use crate::tls::UpstreamConnector;

/// Idle connections kept per endpoint.
const MAX_IDLE_PER_ENDPOINT: usize = 64;
/// Idle connections older than this are not reused (backends commonly close after 60-75 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Opens a TCP connection to `addr` within `timeout`.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ProxyError> {
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

/// Opens an HTTP/1.1 client connection; `upgrades` keeps the I/O for a WebSocket after `101`.
pub async fn handshake(
    addr: SocketAddr,
    timeout: Duration,
    upgrades: bool,
) -> Result<http1::SendRequest<Body>, ProxyError> {
    handshake_with(addr, timeout, upgrades, None).await
}

/// Like [`handshake`], over TLS when `tls` is given (the TLS handshake shares the connect
/// timeout). Pooled connections are keyed by address only: an endpoint speaks either TLS
/// or plaintext on its port, so a connection that was established is right for it.
pub async fn handshake_with(
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

struct Idle {
    sender: http1::SendRequest<Body>,
    since: Instant,
}

/// Idle keep-alive connections by endpoint.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<SocketAddr, Vec<Idle>>>,
}

impl Pool {
    /// A ready idle connection to `addr`, if one is pooled.
    pub fn take(&self, addr: SocketAddr) -> Option<http1::SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(&addr)?;
        while let Some(entry) = list.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT && entry.sender.is_ready() {
                return Some(entry.sender);
            }
        }
        None
    }

    /// Returns a connection whose last response is complete.
    pub fn put(&self, addr: SocketAddr, sender: http1::SendRequest<Body>) {
        if !sender.is_ready() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(addr).or_default();
        list.retain(|e| e.since.elapsed() < IDLE_TIMEOUT && !e.sender.is_closed());
        if list.len() < MAX_IDLE_PER_ENDPOINT {
            list.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// Drops idle connections to endpoints not in `keep`.
    pub fn retain(&self, keep: &std::collections::HashSet<SocketAddr>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|addr, _| keep.contains(addr));
    }
}
