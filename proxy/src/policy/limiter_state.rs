//! The limiter's state: open connections per route and client key, token buckets, and what
//! the shared store must be told at the next renewal.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsgate_core::table::security::{ConnLimits, RequestRate};

use crate::error::LimitRefusal;

/// A token bucket.
#[derive(Debug)]
pub(super) struct Bucket {
    pub(super) tokens: f64,
    pub(super) at: Instant,
}

/// Every count and bucket of the limiter.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) per_ip: HashMap<(Arc<str>, IpAddr), u32>,
    pub(super) per_route: HashMap<Arc<str>, u32>,
    pub(super) buckets: HashMap<(Arc<str>, IpAddr), Bucket>,
    pub(super) requests: HashMap<(Arc<str>, IpAddr, char), (Bucket, RequestRate)>,
    pub(super) swept: Option<Instant>,
    /// Routes this replica counts on in the shared store (renewed until idle and clean).
    pub(super) shared_routes: HashSet<Arc<str>>,
    /// Client keys whose count in the store may be wrong (a call failed).
    pub(super) dirty: HashSet<(Arc<str>, IpAddr)>,
    /// Routes whose every count must be re-asserted (the lease was found gone).
    pub(super) resync: HashSet<Arc<str>>,
    /// `scope: Cluster` routes last warned about (no shared store).
    pub(super) warned: Vec<String>,
}

/// This replica's counts on one shared route, for a renewal.
pub(super) struct Held {
    pub(super) route: Arc<str>,
    pub(super) conns: u32,
    pub(super) clients: Vec<(IpAddr, u32)>,
}

/// The address a per-client limit counts: an IPv4 address (or an IPv4-mapped IPv6 one) as
/// it is, an IPv6 address by its /64, the prefix one subscriber is usually given; counting
/// single IPv6 addresses would let one client take 2^64 quotas (L10).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Where a permit is counted besides this replica's own counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Counted {
    /// Here only (`scope: Replica`).
    Here,
    /// Also in the shared store.
    Shared,
    /// A reservation the store refused: nowhere once dropped.
    Refused,
}

/// Within limits when `ip_count` and `route_count` other connections are open.
pub(super) fn check(
    limits: &ConnLimits,
    ip_count: u32,
    route_count: u32,
) -> Result<(), LimitRefusal> {
    if let Some(max) = limits.per_ip.filter(|max| ip_count >= *max) {
        return Err(LimitRefusal::PerIp(max));
    }
    if let Some(max) = limits.per_route.filter(|max| route_count >= *max) {
        return Err(LimitRefusal::PerRoute(max));
    }
    Ok(())
}

/// Buckets idle this long are full again and can be forgotten.
pub(super) const BUCKET_IDLE: Duration = Duration::from_secs(60);

impl State {
    pub(super) fn sweep(&mut self, now: Instant) {
        if self
            .swept
            .is_some_and(|at| now.duration_since(at) < BUCKET_IDLE)
        {
            return;
        }
        self.swept = Some(now);
        self.buckets
            .retain(|_, b| now.duration_since(b.at) < BUCKET_IDLE);
        // A request bucket idle long enough to be full again is the same as none.
        self.requests.retain(|_, (b, rate)| {
            now.duration_since(b.at).as_secs_f64() * rate.per_second < f64::from(rate.burst)
        });
    }

    /// Takes a token from the handshake bucket of `route` and `ip`, if it has one.
    pub(super) fn take_token(
        &mut self,
        route: &Arc<str>,
        ip: IpAddr,
        limits: &ConnLimits,
    ) -> Result<(), LimitRefusal> {
        let now = Instant::now();
        self.sweep(now);
        let Some((rate, burst)) = limits.rate else {
            return Ok(());
        };
        let b = self.buckets.entry((route.clone(), ip)).or_insert(Bucket {
            tokens: f64::from(burst),
            at: now,
        });
        let refill = now.duration_since(b.at).as_secs_f64() * f64::from(rate);
        b.tokens = (b.tokens + refill).min(f64::from(burst));
        b.at = now;
        if b.tokens < 1.0 {
            return Err(LimitRefusal::Rate(rate));
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// Open connections of `ip` on `route`, and on `route`.
    pub(super) fn counts(&self, route: &Arc<str>, ip: IpAddr) -> (u32, u32) {
        let ip_count = self.per_ip.get(&(route.clone(), ip)).copied();
        let route_count = self.per_route.get(route).copied();
        (ip_count.unwrap_or(0), route_count.unwrap_or(0))
    }

    pub(super) fn add(&mut self, route: &Arc<str>, ip: IpAddr) {
        *self.per_ip.entry((route.clone(), ip)).or_insert(0) += 1;
        *self.per_route.entry(route.clone()).or_insert(0) += 1;
    }

    pub(super) fn remove(&mut self, route: &Arc<str>, ip: IpAddr) {
        let key = (route.clone(), ip);
        if let Some(n) = self.per_ip.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_ip.remove(&key);
            }
        }
        if let Some(n) = self.per_route.get_mut(route) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_route.remove(route);
            }
        }
    }

    /// What must be re-asserted in the store: every count of the routes to resync, and
    /// the dirty client keys (with their route's count) of the others. Both sets are taken
    /// (a failed call puts them back).
    pub(super) fn reassert(&mut self) -> Vec<Held> {
        let dirty = std::mem::take(&mut self.dirty);
        let resync = std::mem::take(&mut self.resync);
        let mut held: HashMap<Arc<str>, Held> = HashMap::new();
        for route in resync.iter().chain(dirty.iter().map(|(r, _)| r)) {
            held.entry(route.clone()).or_insert_with(|| Held {
                route: route.clone(),
                conns: self.per_route.get(route).copied().unwrap_or(0),
                clients: Vec::new(),
            });
        }
        for ((route, ip), n) in &self.per_ip {
            if resync.contains(route)
                && let Some(h) = held.get_mut(route)
            {
                h.clients.push((*ip, *n));
            }
        }
        for (route, ip) in dirty {
            let n = self.per_ip.get(&(route.clone(), ip)).copied();
            if let Some(h) = held.get_mut(&route)
                && (n.is_none() || !resync.contains(&route))
            {
                h.clients.push((ip, n.unwrap_or(0)));
            }
        }
        held.into_values().collect()
    }

    /// The client keys this replica counts on each shared route.
    pub(super) fn clients_by_route(&self) -> Vec<(Arc<str>, Vec<IpAddr>)> {
        let mut held: HashMap<Arc<str>, Vec<IpAddr>> = HashMap::new();
        for route in &self.shared_routes {
            held.insert(route.clone(), Vec::new());
        }
        for (route, ip) in self.per_ip.keys() {
            if let Some(clients) = held.get_mut(route) {
                clients.push(*ip);
            }
        }
        held.into_iter().collect()
    }

    /// Routes with nothing of this replica's left in the store are no longer renewed (their
    /// lease may lapse).
    pub(super) fn forget_idle(&mut self) {
        let (per_route, dirty, resync) = (&self.per_route, &self.dirty, &self.resync);
        self.shared_routes.retain(|r| {
            per_route.contains_key(r) || resync.contains(r) || dirty.iter().any(|(d, _)| d == r)
        });
    }
}
