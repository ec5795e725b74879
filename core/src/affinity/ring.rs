//! A consistent-hash ring with virtual nodes. Positions come from endpoint addresses, not
//! list order, so adding or removing one endpoint moves only the keys that must move.

use std::net::SocketAddr;

use super::hash::hash64;

/// Virtual nodes per unit of weight: a few percent of spread with a handful of endpoints
/// (bounded load evens out the rest).
const VNODES: u32 = 256;
/// Cap on the ring size whatever the weights.
const MAX_POINTS: usize = 200_000;

/// Ring positions, sorted, each naming an index into the backend's endpoint list.
#[derive(Debug, Default)]
pub struct Ring {
    points: Box<[(u64, u32)]>,
    endpoints: usize,
}

impl Ring {
    /// Builds the ring for `(address, weight)` pairs, in endpoint-list order.
    pub fn build(endpoints: &[(SocketAddr, u32)]) -> Ring {
        let total: u64 = endpoints.iter().map(|(_, w)| u64::from((*w).max(1))).sum();
        let per_weight = u64::from(VNODES).min((MAX_POINTS as u64 / total.max(1)).max(1));
        let mut points = Vec::new();
        for (index, (addr, weight)) in endpoints.iter().enumerate() {
            let seed = hash64(0, addr.to_string().as_bytes());
            let count = per_weight * u64::from((*weight).max(1));
            for replica in 0..count {
                let point = hash64(seed, &replica.to_le_bytes());
                points.push((point, u32::try_from(index).unwrap_or(u32::MAX)));
            }
        }
        points.sort_unstable();
        Ring {
            points: points.into(),
            endpoints: endpoints.len(),
        }
    }

    /// Endpoint indexes in ring order starting at `key`, each once.
    pub fn walk(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        let start = self.points.partition_point(|(p, _)| *p < key);
        let mut seen = vec![false; self.endpoints];
        let n = self.points.len();
        (0..n).filter_map(move |i| {
            let (_, index) = self.points[(start + i) % n];
            let index = index as usize;
            let fresh = seen.get(index).is_some_and(|s| !*s);
            if fresh {
                seen[index] = true;
            }
            fresh.then_some(index)
        })
    }

    /// The endpoint a key maps to when every endpoint is usable.
    pub fn owner(&self, key: u64) -> Option<usize> {
        self.walk(key).next()
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
