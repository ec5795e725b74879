//! A small per-endpoint pool of idle keep-alive connections for plain HTTP requests.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::client::conn::http1;

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

/// Idle keep-alive connections by endpoint.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<SocketAddr, Vec<Idle>>>,
}

impl Pool {
    /// A ready idle connection to `addr`, if one is pooled.
    pub fn take(&self, addr: SocketAddr) -> Option<http1::SendRequest<Body>> {
        let mut idle = lock(&self.idle);
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
        let mut idle = lock(&self.idle);
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
    pub fn retain(&self, keep: &HashSet<SocketAddr>) {
        let mut idle = lock(&self.idle);
        idle.retain(|addr, _| keep.contains(addr));
    }
}
