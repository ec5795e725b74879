//! Endpoint choice for one backend: least connections (an exact scan for small backends,
//! power of two random choices for large ones), weighted round robin, and consistent hashing with bounded load. Health and slow start
//! apply to all three. Everything here is built once per table; picking only reads atomics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::endpoint::EndpointState;
use wsgate_core::affinity::cookie::{self, RouteKey};
use wsgate_core::affinity::ring::Ring;
use wsgate_core::table::{Affinity, Algorithm, RoutePolicy};

/// Up to this many endpoints least-connections compares them all; above, it compares two
/// random ones (power of two choices), which stays O(1) and avoids herding.
const EXACT_SCAN: usize = 16;
/// Longest weighted round-robin schedule; larger weights are scaled down to fit.
const MAX_SCHEDULE: u64 = 10_000;

/// A weighted endpoint candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Live state.
    pub state: Arc<EndpointState>,
    /// Relative weight (at least 1).
    pub weight: u32,
}

/// The endpoints of one backend and the structures derived from them for one table.
#[derive(Debug)]
pub struct Balancer {
    /// Endpoints in table order.
    pub candidates: Arc<[Candidate]>,
    algorithm: Algorithm,
    slow_start: Duration,
    next: AtomicUsize,
    schedule: Box<[u32]>,
    ring: Option<Ring>,
    bound: Option<f64>,
    tokens: Box<[u64]>,
    /// Rebalancing may move sticky sessions: affinity does not hold to an endpoint it
    /// found overloaded.
    move_sticky: bool,
}

impl Balancer {
    /// Derives the balancer of `candidates` under `policy`; `route_key` keys cookie tokens.
    pub fn new(candidates: Arc<[Candidate]>, policy: &RoutePolicy, route_key: RouteKey) -> Self {
        let weights: Vec<(SocketAddr, u32)> = candidates
            .iter()
            .map(|c| (c.state.addr, c.weight.max(1)))
            .collect();
        let (ring, bound) = match &policy.affinity {
            Affinity::Hash { bound, .. } => (Some(Ring::build(&weights)), *bound),
            _ if policy.balancing.algorithm == Algorithm::ConsistentHash => (
                Some(Ring::build(&weights)),
                Some(wsgate_core::compile::balancing::DEFAULT_BOUNDED_LOAD),
            ),
            _ => (None, None),
        };
        let tokens = match policy.affinity {
            Affinity::Cookie { .. } => weights
                .iter()
                .map(|(a, _)| cookie::token(&route_key, *a))
                .collect(),
            _ => Box::default(),
        };
        Self {
            schedule: smooth_schedule(&weights),
            candidates,
            algorithm: policy.balancing.algorithm,
            slow_start: policy.balancing.slow_start,
            next: AtomicUsize::new(fastrand::usize(..1024)),
            ring,
            bound,
            tokens,
            move_sticky: policy
                .balancing
                .rebalance
                .is_some_and(|r| r.move_sticky_sessions),
        }
    }

    /// Affinity may still pin a session to `c`: it is healthy, and not an endpoint that
    /// rebalancing is moving sticky sessions off.
    pub fn holds_affinity(&self, c: &Candidate) -> bool {
        c.state.is_healthy() && !(self.move_sticky && c.state.is_overloaded())
    }

    /// Picks an endpoint by the route's algorithm; `key` (a hashed affinity key) goes to the
    /// ring when there is one. `skip` excludes an endpoint (for a retry). `None` when no
    /// endpoint is healthy.
    pub fn pick(&self, key: Option<u64>, skip: Option<&Arc<EndpointState>>) -> Option<&Candidate> {
        let usable =
            |c: &Candidate| skip.is_none_or(|s| !Arc::ptr_eq(s, &c.state)) && c.state.is_healthy();
        match (&self.ring, key) {
            (Some(ring), Some(key)) => {
                let holds = |c: &Candidate| usable(c) && self.holds_affinity(c);
                self.pick_hash(ring, key, &holds)
                    .or_else(|| self.pick_hash(ring, key, &usable))
            }
            _ if self.algorithm == Algorithm::RoundRobin => self.pick_round_robin(&usable),
            _ => self.pick_least_connections(&usable),
        }
    }

    /// The algorithm itself hashes (the client address when affinity gives no key).
    pub fn hashes_by_default(&self) -> bool {
        self.ring.is_some() && self.algorithm == Algorithm::ConsistentHash
    }

    /// Index of the endpoint at `addr`.
    pub fn position(&self, addr: SocketAddr) -> Option<usize> {
        self.candidates.iter().position(|c| c.state.addr == addr)
    }

    /// Index of the endpoint a cookie token names.
    pub fn by_token(&self, token: u64) -> Option<usize> {
        self.tokens.iter().position(|t| *t == token)
    }

    /// The cookie token of the endpoint at `addr` (cookie affinity only).
    pub fn token_of(&self, addr: SocketAddr) -> Option<u64> {
        self.position(addr)
            .and_then(|i| self.tokens.get(i).copied())
    }

    /// Earliest time an ejected endpoint is tried again (for `Retry-After`).
    pub fn retry_in(&self) -> Duration {
        self.candidates
            .iter()
            .map(|c| c.state.retry_in())
            .min()
            .unwrap_or_default()
    }

    /// The candidate's weight scaled by its slow-start ramp (what least connections and
    /// rebalancing compare loads by).
    pub fn effective_weight(&self, c: &Candidate) -> f64 {
        f64::from(c.weight.max(1)) * c.state.ramp(self.slow_start)
    }

    /// `a` is less loaded than `b`: fewer connections (plus the one to place) per unit of
    /// effective weight, so a ramping endpoint with no connections still counts as loaded.
    fn less_loaded(&self, a: &Candidate, b: &Candidate) -> bool {
        (a.state.active() + 1) as f64 * self.effective_weight(b)
            < (b.state.active() + 1) as f64 * self.effective_weight(a)
    }

    fn pick_least_connections(&self, usable: &dyn Fn(&Candidate) -> bool) -> Option<&Candidate> {
        let c = &self.candidates;
        let n = c.len();
        if n > EXACT_SCAN {
            let a = fastrand::usize(..n);
            let mut b = fastrand::usize(..n - 1);
            if b >= a {
                b += 1;
            }
            match (usable(&c[a]), usable(&c[b])) {
                (true, true) => return Some(self.lesser(&c[a], &c[b])),
                (true, false) => return Some(&c[a]),
                (false, true) => return Some(&c[b]),
                // Both samples ejected: fall back to the scan.
                (false, false) => {}
            }
        }
        // Few endpoints: compare them all, from a random start so that ties spread.
        let start = fastrand::usize(..n.max(1));
        (0..n)
            .map(|i| &c[(start + i) % n])
            .filter(|x| usable(x))
            .reduce(|best, x| self.lesser(best, x))
    }

    /// The less loaded of two candidates (`a` on a tie).
    fn lesser<'a>(&self, a: &'a Candidate, b: &'a Candidate) -> &'a Candidate {
        if self.less_loaded(b, a) { b } else { a }
    }

    fn pick_round_robin(&self, usable: &dyn Fn(&Candidate) -> bool) -> Option<&Candidate> {
        let len = self.schedule.len();
        for _ in 0..len {
            let slot = self.next.fetch_add(1, Ordering::Relaxed) % len.max(1);
            let c = &self.candidates[self.schedule[slot] as usize];
            let ramp = c.state.ramp(self.slow_start);
            if usable(c) && (ramp >= 1.0 || fastrand::f64() < ramp) {
                return Some(c);
            }
        }
        self.candidates.iter().find(|c| usable(c))
    }

    /// Walks the ring from `key`; takes the first usable endpoint whose load stays within
    /// `bound` times its weighted share of all connections (plus this one).
    fn pick_hash(
        &self,
        ring: &Ring,
        key: u64,
        usable: &dyn Fn(&Candidate) -> bool,
    ) -> Option<&Candidate> {
        let c = &self.candidates;
        let total: u64 = c.iter().map(|x| x.state.active()).sum::<u64>() + 1;
        let weight: f64 = c.iter().map(|x| f64::from(x.weight.max(1))).sum();
        let mut first = None;
        for i in ring.walk(key) {
            let cand = &c[i];
            if !usable(cand) {
                continue;
            }
            let Some(factor) = self.bound else {
                return Some(cand);
            };
            let share = f64::from(cand.weight.max(1)) / weight;
            let capacity = (factor * total as f64 * share).ceil();
            if (cand.state.active() as f64) < capacity {
                return Some(cand);
            }
            first.get_or_insert(cand);
        }
        first
    }
}

/// Smooth weighted round robin (as nginx does it): weights 5,1,1 give a a b a c a a,
/// not a a a a a b c.
fn smooth_schedule(weights: &[(SocketAddr, u32)]) -> Box<[u32]> {
    let total: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
    let scale = total.div_ceil(MAX_SCHEDULE).max(1);
    let w: Vec<i64> = weights
        .iter()
        .map(|(_, x)| i64::try_from((u64::from(*x) / scale).max(1)).unwrap_or(1))
        .collect();
    let sum: i64 = w.iter().sum();
    let mut current = vec![0i64; w.len()];
    let mut out = Vec::with_capacity(usize::try_from(sum).unwrap_or(0));
    for _ in 0..sum {
        let mut best = 0;
        for i in 0..w.len() {
            current[i] += w[i];
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= sum;
        out.push(u32::try_from(best).unwrap_or(0));
    }
    out.into()
}

#[cfg(test)]
#[path = "balancer_tests.rs"]
mod tests;
