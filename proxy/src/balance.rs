//! Endpoint choice: least connections by power of two random choices, weighted.

use std::sync::Arc;

use crate::endpoint::EndpointState;

/// A weighted endpoint candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Live state.
    pub state: Arc<EndpointState>,
    /// Relative weight (at least 1).
    pub weight: u32,
}

/// Picks two distinct endpoints at random and returns the one with fewer active
/// connections per unit of weight; `skip` excludes an endpoint (for a retry).
pub fn pick_least_connections<'a>(
    candidates: &'a [Candidate],
    skip: Option<&Arc<EndpointState>>,
) -> Option<&'a Candidate> {
    let usable = |c: &&Candidate| skip.is_none_or(|s| !Arc::ptr_eq(s, &c.state));
    let n = candidates.len();
    match n {
        0 => None,
        1 => candidates.iter().find(|c| usable(c)),
        _ => {
            let a = fastrand::usize(..n);
            let mut b = fastrand::usize(..n - 1);
            if b >= a {
                b += 1;
            }
            let (ca, cb) = (&candidates[a], &candidates[b]);
            match (usable(&ca), usable(&cb)) {
                (true, true) => Some(if less_loaded(cb, ca) { cb } else { ca }),
                (true, false) => Some(ca),
                (false, true) => Some(cb),
                (false, false) => candidates.iter().find(|c| usable(c)),
            }
        }
    }
}

/// `a` carries less load per weight than `b` (cross-multiplied to stay in integers).
fn less_loaded(a: &Candidate, b: &Candidate) -> bool {
    u128::from(a.state.active()) * u128::from(b.weight.max(1))
        < u128::from(b.state.active()) * u128::from(a.weight.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::EndpointRegistry;
    use crate::metrics::Metrics;
    use std::net::SocketAddr;
    use tokio_util::sync::CancellationToken;

    fn candidates(n: u16) -> Vec<Candidate> {
        let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
        let reg = EndpointRegistry::new(CancellationToken::new(), metrics);
        (0..n)
            .map(|i| Candidate {
                state: reg.get(SocketAddr::from(([127, 0, 0, 1], 10000 + i))),
                weight: 1,
            })
            .collect()
    }

    #[test]
    fn spreads_long_lived_connections_evenly() {
        let c = candidates(3);
        let mut guards = Vec::new();
        for _ in 0..300 {
            let chosen = pick_least_connections(&c, None).expect("an endpoint");
            guards.push(chosen.state.acquire());
        }
        let counts: Vec<u64> = c.iter().map(|c| c.state.active()).collect();
        let (min, max) = (
            counts.iter().min().copied().unwrap_or(0),
            counts.iter().max().copied().unwrap_or(0),
        );
        assert!(max - min <= 3, "uneven spread {counts:?}");
    }

    #[test]
    fn skip_avoids_the_failed_endpoint() {
        let c = candidates(2);
        for _ in 0..50 {
            let chosen = pick_least_connections(&c, Some(&c[0].state)).expect("an endpoint");
            assert!(Arc::ptr_eq(&chosen.state, &c[1].state));
        }
        let one = candidates(1);
        assert!(pick_least_connections(&one, Some(&one[0].state)).is_none());
    }
}
