//! Identical route policies shared: most routes of a table use the defaults or one of a few
//! house policies, and a policy (with its security part) is several hundred bytes, so each
//! distinct one is kept once and the routes point at it.

use std::sync::Arc;

use super::{Route, RoutePolicy};

/// Distinct policies compared against; a table with more distinct policies than this in
/// rotation keeps some duplicates (no worse than not sharing), and the check stays O(1).
const RECENT: usize = 16;

/// Replaces each route's policy with an equal one seen before, when there is one.
pub fn share_policies(routes: &mut [Route]) {
    let mut recent: Vec<Arc<RoutePolicy>> = Vec::with_capacity(RECENT);
    for route in routes {
        match recent.iter().position(|p| **p == *route.policy) {
            Some(i) => {
                route.policy = recent[i].clone();
                // Most recently used first: the common policies stay in the window.
                recent[..=i].rotate_right(1);
            }
            None => {
                if recent.len() == RECENT {
                    recent.pop();
                }
                recent.insert(0, route.policy.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::RouteId;

    fn route(name: &str, max: u64) -> Route {
        Route {
            id: RouteId {
                namespace: "default".into(),
                name: name.into(),
            },
            hostnames: Arc::from(Vec::new()),
            rules: Arc::from(Vec::new()),
            policy: Arc::new(RoutePolicy {
                max_message_bytes: max,
                ..RoutePolicy::default()
            }),
            tls: None,
        }
    }

    #[test]
    fn equal_policies_share_one_allocation_and_different_ones_stay_apart() {
        let mut routes: Vec<Route> = (0..10)
            .map(|i| route(&format!("r{i}"), if i % 2 == 0 { 1024 } else { 2048 }))
            .collect();
        share_policies(&mut routes);
        for pair in routes.windows(3) {
            assert!(Arc::ptr_eq(&pair[0].policy, &pair[2].policy));
            assert!(!Arc::ptr_eq(&pair[0].policy, &pair[1].policy));
        }
        assert_eq!(routes[1].policy.max_message_bytes, 2048);
    }
}
