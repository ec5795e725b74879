//! Several Services sharing a rule's traffic by weight: each Service's share is split evenly
//! over its ready endpoints, so the balancer's per-endpoint weights carry the split.

use std::cell::RefCell;

use wsgate_core::spec::{ServiceRef, WeightedServiceRef};
use wsgate_core::table::{Backend, Endpoint};

use super::backend::{ServiceView, Unresolved};

/// Largest common multiple used to spread shares exactly; beyond it shares are rounded.
const EXACT_LIMIT: u64 = 10_000;

/// Whether a reference from the route's namespace to a Service (namespace, name) in another
/// namespace is granted (a ReferenceGrant).
pub type Granted<'a> = dyn Fn(&str, &str) -> bool + 'a;

/// The endpoints of every weighted Service, or an invalid backend when none has a usable
/// endpoint. A reference into another namespace counts only when `granted`.
pub fn resolve(
    view: &ServiceView<'_>,
    namespace: &str,
    services: &[WeightedServiceRef],
    granted: &Granted<'_>,
    problems: &RefCell<Vec<Unresolved>>,
) -> Backend {
    let mut groups: Vec<(u64, Vec<Endpoint>)> = Vec::new();
    for s in services {
        let weight = u64::from(s.weight.unwrap_or(1));
        if weight == 0 {
            continue;
        }
        let ns = s.namespace.as_deref().unwrap_or(namespace);
        if ns != namespace && !granted(ns, &s.name) {
            problems.borrow_mut().push(Unresolved {
                reason: super::report::reason::REF_NOT_PERMITTED,
                message: format!(
                    "service {ns}/{} is in another namespace and no ReferenceGrant there allows it",
                    s.name
                ),
            });
            continue;
        }
        let reference = ServiceRef {
            name: s.name.clone(),
            port: s.port.clone(),
        };
        match view.resolve(ns, &reference) {
            Ok(eps) => groups.push((weight, eps)),
            Err(problem) => problems.borrow_mut().push(problem),
        }
    }
    if groups.is_empty() {
        let reason = problems
            .borrow()
            .first()
            .map_or("every backend has weight 0".to_string(), |p| {
                p.message.clone()
            });
        return Backend::Invalid { reason };
    }
    Backend::Endpoints(spread(&groups).into())
}

/// Per-endpoint weights so each group gets `weight / total` of the traffic.
fn spread(groups: &[(u64, Vec<Endpoint>)]) -> Vec<Endpoint> {
    let lcm = groups
        .iter()
        .try_fold(1u64, |acc, (_, eps)| {
            let n = eps.len() as u64;
            let l = acc / gcd(acc, n) * n;
            (l <= EXACT_LIMIT).then_some(l)
        })
        .unwrap_or(EXACT_LIMIT);
    let mut out: Vec<Endpoint> = Vec::new();
    for (weight, eps) in groups {
        let each = (weight * lcm / eps.len() as u64).clamp(1, u64::from(u32::MAX));
        for e in eps {
            let w = u32::try_from(each).unwrap_or(u32::MAX);
            // The same address behind two Services keeps the sum of its shares.
            match out.iter_mut().find(|o| o.addr == e.addr) {
                Some(o) => o.weight = o.weight.saturating_add(w),
                None => out.push(Endpoint {
                    addr: e.addr,
                    weight: w,
                }),
            }
        }
    }
    out
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eps(ports: &[u16]) -> Vec<Endpoint> {
        ports
            .iter()
            .map(|p| Endpoint {
                addr: ([10, 0, 0, 1], *p).into(),
                weight: 1,
            })
            .collect()
    }

    #[test]
    fn shares_follow_the_weights_not_the_endpoint_counts() {
        // 90/10 across a Service with 3 endpoints and one with 2.
        let out = spread(&[(90, eps(&[1, 2, 3])), (10, eps(&[4, 5]))]);
        let total: u64 = out.iter().map(|e| u64::from(e.weight)).sum();
        let first: u64 = out[..3].iter().map(|e| u64::from(e.weight)).sum();
        assert_eq!(first * 100 / total, 90, "{out:?}");
        assert!(out[..3].iter().all(|e| e.weight == out[0].weight));
    }
}
