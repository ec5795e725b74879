//! A small per-endpoint pool of idle keep-alive connections for plain HTTP requests, keyed
//! by the endpoint and the TLS settings the connection was opened with: a route never reuses
//! a connection another route opened with a different CA, server name or verification (L7).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::client::conn::http1;
use wsgate_core::table::UpstreamTls;

use crate::body::Body;
use crate::lock::lock;

/// Idle connections kept per endpoint.
const MAX_IDLE_PER_ENDPOINT: usize = 64;
/// Idle connections older than this are not reused. Node.js closes idle keep-alive
/// connections after 5 s by default (HAProxy purges its idle server connections after 5 s
/// too); staying below that keeps wsgate from writing to a connection being closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

struct Idle {
    sender: http1::SendRequest<Body>,
    since: Instant,
}

/// An endpoint and the TLS settings of its connections (`None`: plaintext).
pub type PoolKey = (SocketAddr, Option<Arc<UpstreamTls>>);

/// Idle keep-alive connections by endpoint and TLS settings.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<PoolKey, Vec<Idle>>>,
}

impl Pool {
    /// A ready idle connection to `key`'s endpoint, opened with its TLS settings.
    pub fn take(&self, key: &PoolKey) -> Option<http1::SendRequest<Body>> {
        let mut idle = lock(&self.idle);
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT && entry.sender.is_ready() {
                return Some(entry.sender);
            }
        }
        None
    }

    /// Returns a connection whose last response is complete.
    pub fn put(&self, key: PoolKey, sender: http1::SendRequest<Body>) {
        if !sender.is_ready() {
            return;
        }
        let mut idle = lock(&self.idle);
        let list = idle.entry(key).or_default();
        list.retain(|e| e.since.elapsed() < IDLE_TIMEOUT && !e.sender.is_closed());
        if list.len() < MAX_IDLE_PER_ENDPOINT {
            list.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// Drops idle connections to endpoints not in `keep`.
    pub fn retain(&self, keep: &HashSet<SocketAddr>) {
        let mut idle = lock(&self.idle);
        idle.retain(|(addr, _), _| keep.contains(addr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;

    #[tokio::test]
    async fn l7_a_pooled_connection_is_reused_only_with_the_same_tls_settings() {
        let (client, _server) = tokio::io::duplex(1024);
        let (mut sender, conn) = http1::handshake::<_, Body>(TokioIo::new(client))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        sender.ready().await.expect("ready");
        let addr: SocketAddr = "10.0.0.1:443".parse().expect("addr");
        let tls = |name: &str, skip: bool| {
            Some(Arc::new(UpstreamTls {
                ca_pem: None,
                insecure_skip_verify: skip,
                server_name: Some(name.into()),
            }))
        };
        let pool = Pool::default();
        pool.put((addr, tls("a.internal", false)), sender);
        assert!(pool.take(&(addr, tls("b.internal", false))).is_none());
        assert!(pool.take(&(addr, tls("a.internal", true))).is_none());
        assert!(pool.take(&(addr, None)).is_none(), "plaintext");
        assert!(pool.take(&(addr, tls("a.internal", false))).is_some());
    }
}
