//! Connection limits: concurrent WebSockets per client address and per route, and a token
//! bucket of handshakes per second per client address. State outlives route-table swaps.
//!
//! ```text
//!   handshake ─> bucket(route, ip) ─> count(route, ip) ─> count(route) ─> ConnPermit (held by the tunnel)
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wsgate_core::table::security::{ConnLimits, RequestRate};

use crate::error::LimitRefusal;
use crate::lock::lock;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Default)]
struct State {
    per_ip: HashMap<(Arc<str>, IpAddr), u32>,
    per_route: HashMap<Arc<str>, u32>,
    buckets: HashMap<(Arc<str>, IpAddr), Bucket>,
    requests: HashMap<(Arc<str>, IpAddr, char), (Bucket, RequestRate)>,
    swept: Option<Instant>,
}

/// Live counters and buckets of every route.
#[derive(Debug, Default)]
pub struct Limiter {
    state: Mutex<State>,
}

/// One admitted WebSocket; releases its counts when dropped.
#[derive(Debug)]
pub struct ConnPermit {
    limiter: Arc<Limiter>,
    route: Arc<str>,
    ip: IpAddr,
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

/// Buckets idle this long are full again and can be forgotten.
const BUCKET_IDLE: Duration = Duration::from_secs(60);

impl Limiter {
    /// Admits one handshake on `route` from `ip`, or says which limit refuses it.
    pub fn admit(
        self: &Arc<Self>,
        route: &Arc<str>,
        ip: IpAddr,
        limits: &ConnLimits,
    ) -> Result<ConnPermit, LimitRefusal> {
        let now = Instant::now();
        let ip = limit_key(ip);
        let mut s = lock(&self.state);
        s.sweep(now);
        let key = (route.clone(), ip);
        if let Some((rate, burst)) = limits.rate {
            let b = s.buckets.entry(key.clone()).or_insert(Bucket {
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
        }
        let ip_count = s.per_ip.get(&key).copied().unwrap_or(0);
        if let Some(max) = limits.per_ip.filter(|max| ip_count >= *max) {
            return Err(LimitRefusal::PerIp(max));
        }
        let route_count = s.per_route.get(route).copied().unwrap_or(0);
        if let Some(max) = limits.per_route.filter(|max| route_count >= *max) {
            return Err(LimitRefusal::PerRoute(max));
        }
        *s.per_ip.entry(key).or_insert(0) += 1;
        *s.per_route.entry(route.clone()).or_insert(0) += 1;
        Ok(ConnPermit {
            limiter: self.clone(),
            route: route.clone(),
            ip,
        })
    }

    /// Counts one request of any kind on `route` from `ip` against the request buckets.
    pub fn request(
        &self,
        route: &Arc<str>,
        ip: IpAddr,
        limits: &ConnLimits,
    ) -> Result<(), LimitRefusal> {
        if limits.requests.iter().all(Option::is_none) {
            return Ok(());
        }
        let now = Instant::now();
        let ip = limit_key(ip);
        let mut s = lock(&self.state);
        s.sweep(now);
        // Take from every bucket only when all have a token, as nginx's limit_req zones do.
        let mut keys = Vec::with_capacity(2);
        for rate in limits.requests.iter().flatten() {
            let key = (route.clone(), ip, rate.shown.1);
            let (b, _) = s.requests.entry(key.clone()).or_insert((
                Bucket {
                    tokens: f64::from(rate.burst),
                    at: now,
                },
                *rate,
            ));
            let refill = now.duration_since(b.at).as_secs_f64() * rate.per_second;
            b.tokens = (b.tokens + refill).min(f64::from(rate.burst));
            b.at = now;
            if b.tokens < 1.0 {
                return Err(LimitRefusal::Requests(rate.shown.0, rate.shown.1));
            }
            keys.push(key);
        }
        for key in keys {
            if let Some((b, _)) = s.requests.get_mut(&key) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }

    /// Open WebSockets counted for `route` from `ip`.
    #[cfg(test)]
    pub fn count(&self, route: &str, ip: IpAddr) -> u32 {
        let s = lock(&self.state);
        s.per_ip
            .get(&(Arc::from(route), limit_key(ip)))
            .copied()
            .unwrap_or(0)
    }
}

impl State {
    fn sweep(&mut self, now: Instant) {
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
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut s = lock(&self.limiter.state);
        let key = (self.route.clone(), self.ip);
        if let Some(n) = s.per_ip.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.per_ip.remove(&key);
            }
        }
        if let Some(n) = s.per_route.get_mut(&self.route) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.per_route.remove(&self.route);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l10_ipv6_clients_are_limited_by_their_64_prefix() {
        let limiter = Arc::new(Limiter::default());
        let route: Arc<str> = Arc::from("default/chat");
        let limits = ConnLimits {
            per_ip: Some(2),
            ..ConnLimits::default()
        };
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Two addresses of one /64 share the quota: the third connection is refused.
        let a = limiter.admit(&route, ip("2001:db8:1:2::1"), &limits);
        let b = limiter.admit(&route, ip("2001:db8:1:2:ffff::9"), &limits);
        assert!(a.is_ok() && b.is_ok());
        assert!(matches!(
            limiter.admit(&route, ip("2001:db8:1:2:dead:beef:0:1"), &limits),
            Err(LimitRefusal::PerIp(2))
        ));
        // Another /64 has its own; IPv4 (plain or mapped) counts each address.
        assert!(
            limiter
                .admit(&route, ip("2001:db8:1:3::1"), &limits)
                .is_ok()
        );
        assert_eq!(limit_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
        assert_eq!(limit_key(ip("10.0.0.2")), ip("10.0.0.2"));
        assert_eq!(limiter.count("default/chat", ip("2001:db8:1:2::77")), 2);
        drop(a);
        assert_eq!(limiter.count("default/chat", ip("2001:db8:1:2::77")), 1);
    }

    #[test]
    fn request_buckets_allow_the_burst_then_refuse() {
        let l = Limiter::default();
        let route: Arc<str> = "default/chat".into();
        let ip: IpAddr = "127.0.0.2".parse().expect("ip");
        let per_minute = RequestRate {
            per_second: 2.0 / 60.0,
            burst: 3,
            shown: (2, 'm'),
        };
        let limits = ConnLimits {
            requests: [None, Some(per_minute)],
            ..ConnLimits::default()
        };
        for i in 0..3 {
            assert_eq!(l.request(&route, ip, &limits), Ok(()), "request {i}");
        }
        assert_eq!(
            l.request(&route, ip, &limits),
            Err(LimitRefusal::Requests(2, 'm'))
        );
        let other: IpAddr = "127.0.0.3".parse().expect("ip");
        assert_eq!(
            l.request(&route, other, &limits),
            Ok(()),
            "buckets are per address"
        );
    }

    #[test]
    fn counts_per_ip_and_route_and_releases_on_drop() {
        let l = Arc::new(Limiter::default());
        let route: Arc<str> = "default/chat".into();
        let a: IpAddr = "127.0.0.2".parse().expect("ip");
        let b: IpAddr = "127.0.0.3".parse().expect("ip");
        let limits = ConnLimits {
            per_ip: Some(2),
            per_route: Some(3),
            rate: None,
            requests: [None, None],
        };
        let p1 = l.admit(&route, a, &limits).expect("first");
        let _p2 = l.admit(&route, a, &limits).expect("second");
        assert_eq!(
            l.admit(&route, a, &limits).err(),
            Some(LimitRefusal::PerIp(2))
        );
        let _p3 = l.admit(&route, b, &limits).expect("other ip");
        assert_eq!(
            l.admit(&route, b, &limits).err(),
            Some(LimitRefusal::PerRoute(3))
        );
        drop(p1);
        assert_eq!(l.count("default/chat", a), 1);
        assert!(l.admit(&route, a, &limits).is_ok());
    }

    #[test]
    fn the_bucket_allows_a_burst_then_refuses() {
        let l = Arc::new(Limiter::default());
        let route: Arc<str> = "default/chat".into();
        let ip: IpAddr = "127.0.0.2".parse().expect("ip");
        let limits = ConnLimits {
            rate: Some((1, 3)),
            ..ConnLimits::default()
        };
        for _ in 0..3 {
            drop(l.admit(&route, ip, &limits).expect("within burst"));
        }
        assert_eq!(
            l.admit(&route, ip, &limits).err(),
            Some(LimitRefusal::Rate(1))
        );
    }
}
