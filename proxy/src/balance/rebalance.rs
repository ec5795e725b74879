//! Rebalancing after a scale-out (`loadBalancing.rebalance`): one task per process compares
//! the live connection counts of each rebalanced backend's ready endpoints and, while the
//! most loaded one holds more than `maxImbalance` times its fair share, closes its
//! connections one at a time with the route's close code so their clients reconnect and
//! least connections places them on the emptier endpoints.
//!
//! - Fair share: the endpoints' weights scaled by their slow-start ramps, the very weights
//!   the balancer compares, so a ramping endpoint is never offered more than slow start
//!   lets it take; the excess grows with the ramp.
//! - Pace: the excess found when a rebalancing starts is spread over `window`; closes of one
//!   route are at least `1 / maxClosesPerSecond` apart. Counts are read again before every
//!   close, and it stops as soon as every endpoint is within the factor.
//! - Moved connections that have not ended yet do not count on their endpoint, and the
//!   backend's total is kept at its size when the rebalancing began, so clients between
//!   their close and their reconnect are not taken for departures.
//! - Sticky routes (cookie, hashing) are left alone unless `moveStickySessions`; then the
//!   endpoint is marked overloaded and affinity stops holding to it while it is.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wsgate_core::table::Rebalance;

use super::balancer::Balancer;
use super::endpoint::EndpointState;
use crate::metrics::{RebalanceMetrics, route_labels};
use crate::route::{BackendRuntime, RouteRuntime};
use crate::state::State;

/// How often counts are compared when no rebalancing is under way.
const TICK: Duration = Duration::from_secs(1);
/// How long an endpoint stays marked overloaded after it was last found so.
const OVERLOAD_MARK: Duration = Duration::from_secs(3);
/// Slack for comparing ratios computed in floating point.
const EPSILON: f64 = 1e-9;

/// One endpoint's load as rebalancing compares it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    /// Live connections, less those already asked to close.
    pub count: u64,
    /// Weight scaled by the slow-start ramp.
    pub weight: f64,
}

/// What the counts of one backend call for.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The most loaded endpoint's count over its fair share (1 is even).
    pub imbalance: f64,
    /// Endpoints above the factor.
    pub overloaded: Vec<usize>,
    /// The endpoint to move a connection off, when moving one makes things better.
    pub from: Option<usize>,
    /// Connections above the factor, over all endpoints.
    pub excess: u64,
}

/// Compares `loads` against their fair shares of `max(sum of counts, floor)`.
pub fn assess(loads: &[Load], floor: u64, max_imbalance: f64) -> Verdict {
    let mut v = Verdict {
        imbalance: 1.0,
        overloaded: Vec::new(),
        from: None,
        excess: 0,
    };
    let weight: f64 = loads.iter().map(|l| l.weight).sum();
    let total = loads.iter().map(|l| l.count).sum::<u64>().max(floor);
    if loads.len() < 2 || total == 0 || weight <= 0.0 {
        return v;
    }
    let per_weight = |l: &Load| l.count as f64 / l.weight.max(EPSILON);
    for (i, l) in loads.iter().enumerate() {
        let share = total as f64 * l.weight / weight;
        let ratio = l.count as f64 / share.max(EPSILON);
        v.imbalance = v.imbalance.max(ratio);
        if ratio > max_imbalance + EPSILON {
            v.overloaded.push(i);
            v.excess += l
                .count
                .saturating_sub((max_imbalance * share).floor() as u64);
        }
    }
    let most =
        (0..loads.len()).max_by(|&a, &b| per_weight(&loads[a]).total_cmp(&per_weight(&loads[b])));
    let least = loads
        .iter()
        .map(|l| (l.count + 1) as f64 / l.weight.max(EPSILON))
        .min_by(f64::total_cmp);
    // Move one only if its new place stays below where it was: 2 and 1 never swap forever.
    if let (Some(i), Some(least)) = (most, least)
        && !v.overloaded.is_empty()
        && least < per_weight(&loads[i]) - EPSILON
    {
        v.from = Some(i);
    }
    v
}

/// Closes per second of a rebalancing that found `excess` connections: spread over the
/// window, at least one a second, never above the cap.
pub fn pace(excess: u64, policy: Rebalance) -> f64 {
    let spread = excess as f64 / policy.window.as_secs_f64().max(0.001);
    spread.clamp(1.0, f64::from(policy.max_closes_per_second))
}

/// A rebalancing under way on one backend.
#[derive(Clone, Copy, Debug)]
struct Episode {
    /// The backend's total when it began.
    total: u64,
    /// Closes per second it was given.
    rate: f64,
}

/// What the task remembers of a route between ticks.
struct RouteState {
    /// Earliest time of the route's next close.
    next_close: Instant,
    /// Rebalancing under way, by rule.
    episodes: HashMap<usize, Episode>,
}

/// Runs until draining begins.
pub async fn run(state: Arc<State>) {
    let mut routes: HashMap<Arc<str>, RouteState> = HashMap::new();
    loop {
        let wake = tick(&state, &mut routes, Instant::now());
        tokio::select! {
            () = state.draining.cancelled() => return,
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// One look at every rebalanced route; returns when to look again.
fn tick(state: &State, routes: &mut HashMap<Arc<str>, RouteState>, now: Instant) -> Instant {
    let router = state.router.load();
    let mut wake = now + TICK;
    let mut seen = HashSet::new();
    for route in router.routes() {
        let Some(policy) = route.policy.balancing.rebalance else {
            continue;
        };
        seen.insert(route.label.clone());
        let rs = routes
            .entry(route.label.clone())
            .or_insert_with(|| RouteState {
                next_close: now,
                episodes: HashMap::new(),
            });
        let imbalance = look_at_route(route, policy, rs, &state.metrics.rebalance, now);
        let [ns, name] = route_labels(&route.label);
        state
            .metrics
            .rebalance
            .imbalance
            .with_label_values(&[ns, name])
            .set(imbalance);
        if !rs.episodes.is_empty() {
            wake = wake.min(rs.next_close.max(now + Duration::from_millis(1)));
        }
    }
    // A route that no longer rebalances loses its state and its gauge (one that left the
    // table loses its series when the table is applied).
    routes.retain(|label, _| {
        let keep = seen.contains(label);
        if !keep {
            let [ns, name] = route_labels(label);
            let _ = state
                .metrics
                .rebalance
                .imbalance
                .remove_label_values(&[ns, name]);
        }
        keep
    });
    wake
}

/// Rebalances each backend of `route` that needs it (one close at most, when the route's
/// pace allows); returns the route's largest imbalance.
fn look_at_route(
    route: &RouteRuntime,
    policy: Rebalance,
    rs: &mut RouteState,
    metrics: &RebalanceMetrics,
    now: Instant,
) -> f64 {
    let may_close = route.policy.rebalance_moves();
    let mut worst: f64 = 1.0;
    for (rule, runtime) in route.rules.iter().enumerate() {
        let BackendRuntime::Endpoints(balancer) = &runtime.backend else {
            continue;
        };
        let ready = ready(balancer);
        let loads: Vec<Load> = ready.iter().map(|(_, l)| *l).collect();
        let episode = rs.episodes.get(&rule).copied();
        let v = assess(&loads, episode.map_or(0, |e| e.total), policy.max_imbalance);
        worst = worst.max(v.imbalance);
        let Some(from) = v.from.filter(|_| may_close) else {
            if episode.is_some() {
                tracing::info!(route = %route.label, imbalance = v.imbalance, "rebalancing done: endpoints within the factor");
                rs.episodes.remove(&rule);
            }
            continue;
        };
        for &i in &v.overloaded {
            ready[i].0.mark_overloaded(OVERLOAD_MARK);
        }
        let episode = *rs.episodes.entry(rule).or_insert_with(|| {
            let rate = pace(v.excess, policy);
            tracing::info!(route = %route.label, imbalance = v.imbalance, excess = v.excess, closes_per_second = rate, "rebalancing: closing connections of overloaded endpoints");
            Episode {
                total: loads.iter().map(|l| l.count).sum(),
                rate,
            }
        });
        if now < rs.next_close {
            continue;
        }
        let endpoint = ready[from].0;
        if endpoint.movable.move_one(&route.label) {
            let [ns, name] = route_labels(&route.label);
            let addr = endpoint.addr.to_string();
            metrics.closes.with_label_values(&[ns, name, &addr]).inc();
            rs.next_close = now + Duration::from_secs_f64(1.0 / episode.rate);
        } else {
            // Nothing of this route to move there now (sessions still polling, say).
            rs.next_close = now + TICK;
        }
    }
    worst
}

/// A balancer's ready endpoints (healthy, not draining) with their loads.
fn ready(balancer: &Balancer) -> Vec<(&Arc<EndpointState>, Load)> {
    balancer
        .candidates
        .iter()
        .filter(|c| c.state.is_healthy() && !c.state.drain.is_cancelled())
        .map(|c| {
            let load = Load {
                count: c.state.active().saturating_sub(c.state.movable.pending()),
                weight: balancer.effective_weight(c),
            };
            (&c.state, load)
        })
        .collect()
}

#[cfg(test)]
#[path = "rebalance_tests.rs"]
mod tests;
