//! Connection limits: concurrent WebSockets per client address and per route, and a token
//! bucket of handshakes per second per client address. State outlives route-table swaps.
//! Routes with `scope: Cluster` also count in the shared store, with every replica
//! ([`crate::shared::leases`]); this replica's own counts stay here, are re-asserted there
//! by a renewal task, and judge alone while the store does not answer.
//!
//! ```text
//!   handshake ─> bucket(route, ip) ─> count(route, ip) ─> count(route) ─> ConnPermit (held by the tunnel)
//!                                     └─ scope: Cluster: + shared counts (one script call) ─┘
//! ```

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use prometheus::IntCounter;
use wsgate_core::table::RouteTable;
use wsgate_core::table::security::ConnLimits;

pub use super::limiter_state::limit_key;
use super::limiter_state::{Bucket, Counted, State, check};
use crate::error::LimitRefusal;
use crate::lock::lock;
use crate::shared::StoreError;
use crate::shared::leases::{ADMIT_TIMEOUT, RENEW_EVERY, SharedCounts, TOUCH_EVERY, Verdict};

/// The shared store's side of the limiter.
pub struct SharedLimits {
    /// Counts of every replica.
    pub counts: Arc<SharedCounts>,
    /// Handshakes judged by this replica's own counts because the store did not answer.
    pub fallbacks: IntCounter,
}

/// Live counters and buckets of every route.
#[derive(Default)]
pub struct Limiter {
    state: Mutex<State>,
    shared: Option<SharedLimits>,
    renewal: OnceLock<()>,
    /// Admissions and releases in the store hold it shared for their call; re-asserting
    /// absolute counts holds it exclusively, so no increment is in flight meanwhile.
    calls: tokio::sync::RwLock<()>,
}

/// One admitted WebSocket; releases its counts when dropped.
pub struct ConnPermit {
    limiter: Arc<Limiter>,
    route: Arc<str>,
    ip: IpAddr,
    counted: Counted,
}

impl std::fmt::Debug for ConnPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnPermit")
            .field("route", &self.route)
            .field("ip", &self.ip)
            .field("counted", &self.counted)
            .finish()
    }
}

impl Limiter {
    /// A limiter that counts `scope: Cluster` routes through `shared` when there is one.
    pub fn new(shared: Option<SharedLimits>) -> Self {
        Self {
            shared,
            ..Self::default()
        }
    }

    /// Admits one handshake on `route` from `ip`, or says which limit refuses it. Routes with
    /// `scope: Cluster` count with every replica when the process shares state.
    pub async fn admit_connection(
        self: &Arc<Self>,
        route: &Arc<str>,
        ip: IpAddr,
        limits: &ConnLimits,
    ) -> Result<ConnPermit, LimitRefusal> {
        let counted = limits.per_ip.is_some() || limits.per_route.is_some();
        match &self.shared {
            Some(shared) if limits.cluster && counted => {
                self.admit_shared(shared, route, ip, limits).await
            }
            _ => self.admit(route, ip, limits),
        }
    }

    /// Admits one handshake on `route` from `ip` by this replica's counts alone.
    pub fn admit(
        self: &Arc<Self>,
        route: &Arc<str>,
        ip: IpAddr,
        limits: &ConnLimits,
    ) -> Result<ConnPermit, LimitRefusal> {
        let ip = limit_key(ip);
        let mut s = lock(&self.state);
        s.take_token(route, ip, limits)?;
        let (ip_count, route_count) = s.counts(route, ip);
        check(limits, ip_count, route_count)?;
        s.add(route, ip);
        Ok(self.permit(route, ip, Counted::Here))
    }

    async fn admit_shared(
        self: &Arc<Self>,
        shared: &SharedLimits,
        route: &Arc<str>,
        ip: IpAddr,
        limits: &ConnLimits,
    ) -> Result<ConnPermit, LimitRefusal> {
        self.start_renewal(shared);
        let ip = limit_key(ip);
        // Waits out a re-assertion in progress (bounded: past it, this replica judges alone).
        let guard = tokio::time::timeout(ADMIT_TIMEOUT, self.calls.read()).await;
        let mut permit = {
            let mut s = lock(&self.state);
            s.take_token(route, ip, limits)?;
            s.add(route, ip);
            self.permit(route, ip, Counted::Shared)
        };
        let verdict = match guard {
            Ok(_) => {
                let known = !lock(&self.state).shared_routes.insert(route.clone());
                let verdict = shared
                    .counts
                    .admit(route, ip, limits.per_ip, limits.per_route)
                    .await;
                if let Ok((_, true)) = verdict
                    && known
                {
                    // The lease was gone: the store lost or dropped this replica's counts.
                    lock(&self.state).resync.insert(route.clone());
                }
                verdict.map(|(v, _)| v)
            }
            Err(_) => Err(StoreError::Timeout),
        };
        let refusal = match verdict {
            Ok(Verdict::Admitted) => return Ok(permit),
            Ok(Verdict::PerIp) => LimitRefusal::PerIp(limits.per_ip.unwrap_or(0)),
            Ok(Verdict::PerRoute) => LimitRefusal::PerRoute(limits.per_route.unwrap_or(0)),
            Err(_) => {
                // The store may or may not have counted it: the next renewal says what is true.
                shared.fallbacks.inc();
                self.mark_dirty(route, ip);
                let (ip_count, route_count) = lock(&self.state).counts(route, ip);
                // The counts include this connection.
                match check(
                    limits,
                    ip_count.saturating_sub(1),
                    route_count.saturating_sub(1),
                ) {
                    Ok(()) => return Ok(permit),
                    Err(refusal) => refusal,
                }
            }
        };
        permit.counted = Counted::Refused;
        Err(refusal)
    }

    fn permit(self: &Arc<Self>, route: &Arc<str>, ip: IpAddr, counted: Counted) -> ConnPermit {
        ConnPermit {
            limiter: self.clone(),
            route: route.clone(),
            ip,
            counted,
        }
    }

    /// `ip`'s count on `route` must be re-asserted in the store at the next renewal.
    fn mark_dirty(&self, route: &Arc<str>, ip: IpAddr) {
        let mut s = lock(&self.state);
        s.dirty.insert((route.clone(), ip));
        s.shared_routes.insert(route.clone());
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

impl Limiter {
    /// Prepares for `table`'s `scope: Cluster` routes: connections already open on one (it
    /// was `scope: Replica` before) are written to the store at the next renewal. Without a
    /// store, warns that they count per replica (once per change of that list).
    pub fn check_table(self: &Arc<Self>, table: &RouteTable) {
        let routes: Vec<String> = table
            .routes
            .iter()
            .filter(|r| r.policy.security.limits.cluster)
            .map(|r| r.id.to_string())
            .collect();
        if let Some(shared) = &self.shared {
            let mut joined = false;
            {
                let mut s = lock(&self.state);
                for route in routes {
                    let route: Arc<str> = route.into();
                    if s.per_route.contains_key(&route) && s.shared_routes.insert(route.clone()) {
                        s.resync.insert(route);
                        joined = true;
                    }
                }
            }
            if joined {
                self.start_renewal(shared);
            }
            return;
        }
        let mut s = lock(&self.state);
        if routes != s.warned && !routes.is_empty() {
            tracing::warn!(routes = ?routes, "limits.scope: Cluster without shared state (spec.sharedState.redis, --shared-state-redis-url): these routes count connections per replica");
        }
        s.warned = routes;
    }

    /// Starts the task that renews this replica's leases and counts, once (on a runtime).
    fn start_renewal(self: &Arc<Self>, shared: &SharedLimits) {
        if self.renewal.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.renewal.get_or_init(|| {
            let limiter = Arc::downgrade(self);
            runtime.spawn(renew(limiter, shared.counts.clone()));
        });
    }
}

/// Every [`RENEW_EVERY`], renews this replica's leases on every shared route and
/// re-asserts the counts that may be wrong; ends with the limiter.
async fn renew(limiter: Weak<Limiter>, counts: Arc<SharedCounts>) {
    let start = tokio::time::Instant::now() + RENEW_EVERY;
    let mut tick = tokio::time::interval_at(start, RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut touched = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let Some(limiter) = limiter.upgrade() else {
            return;
        };
        let routes: Vec<Arc<str>> = lock(&limiter.state).shared_routes.iter().cloned().collect();
        let mut answered = true;
        for route in routes {
            match counts.renew(&route, None, &[]).await {
                Ok(false) => {}
                Ok(true) => {
                    lock(&limiter.state).resync.insert(route);
                }
                Err(_) => answered = false,
            }
        }
        if answered {
            limiter.reassert(&counts).await;
        }
        if answered && touched.elapsed() >= TOUCH_EVERY {
            touched = tokio::time::Instant::now();
            let held = lock(&limiter.state).clients_by_route();
            for (route, clients) in held {
                // A failure is retried at the next touch, long before the keys expire.
                let _ = counts.touch(&route, &clients).await;
            }
        }
        lock(&limiter.state).forget_idle();
    }
}

impl Limiter {
    /// Sets the counts that may be wrong in the store to this replica's own, with no
    /// admission or release in flight.
    async fn reassert(&self, counts: &SharedCounts) {
        {
            let s = lock(&self.state);
            if s.dirty.is_empty() && s.resync.is_empty() {
                return;
            }
        }
        let _exclusive = self.calls.write().await;
        let held = lock(&self.state).reassert();
        for h in held {
            if counts
                .renew(&h.route, Some(h.conns), &h.clients)
                .await
                .is_err()
            {
                let mut s = lock(&self.state);
                s.resync.insert(h.route.clone());
                let keys = h.clients.iter().map(|(ip, _)| (h.route.clone(), *ip));
                s.dirty.extend(keys);
            }
        }
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let shared = self.limiter.shared.as_ref();
        let shared = shared.filter(|_| self.counted == Counted::Shared);
        let runtime = tokio::runtime::Handle::try_current();
        let (Some(shared), Ok(runtime)) = (shared, runtime) else {
            let mut s = lock(&self.limiter.state);
            s.remove(&self.route, self.ip);
            // The store may hold this one: counted there, or re-asserted with the rest of a
            // route that turned `scope: Cluster` while it was open.
            let counted = self.counted == Counted::Shared
                || (self.counted == Counted::Here && s.shared_routes.contains(&self.route));
            drop(s);
            if counted {
                self.limiter.mark_dirty(&self.route, self.ip);
            }
            return;
        };
        let (limiter, route, ip) = (self.limiter.clone(), self.route.clone(), self.ip);
        let counts = shared.counts.clone();
        runtime.spawn(async move {
            // Counted down here and in the store under one shared hold, so that a
            // re-assertion never sees one without the other.
            let _shared = limiter.calls.read().await;
            lock(&limiter.state).remove(&route, ip);
            if counts.release(&route, ip).await.is_err() {
                limiter.mark_dirty(&route, ip);
            }
        });
    }
}

#[cfg(test)]
#[path = "limiter_tests.rs"]
mod tests;
