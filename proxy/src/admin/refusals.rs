//! The last requests wsgate refused, for the admin page: a fixed-size ring (the oldest entry
//! goes when a new one comes), so memory stays bounded however many requests are refused.
//! An entry holds the reason, status and route only: never a path, query or header.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::SystemTime;

use crate::lock::lock;

/// Refusals kept.
pub const CAPACITY: usize = 200;
/// The reason of an upgrade the endpoint itself refused (a `wsgate_handshakes_total` result).
pub const BACKEND_REJECTED: &str = "backend_rejected";

/// One refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// When it was answered.
    pub at: SystemTime,
    /// `websocket` or `http`.
    pub kind: &'static str,
    /// Status sent to the client.
    pub status: u16,
    /// The metric reason (`no_route`, `origin_not_allowed`, ...).
    pub reason: &'static str,
    /// `namespace/name` of the route it matched, if any.
    pub route: Option<Arc<str>>,
}

/// The ring.
#[derive(Debug, Default)]
pub struct RecentRefusals {
    ring: Mutex<VecDeque<Refused>>,
}

impl RecentRefusals {
    /// Records a refusal, dropping the oldest when full. Best effort: while another
    /// request holds the ring (a flood of refusals on every core), this one is left out
    /// rather than made to wait; the metrics count it either way.
    pub fn record(&self, refused: Refused) {
        let mut ring = match self.ring.try_lock() {
            Ok(ring) => ring,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if ring.len() == CAPACITY {
            ring.pop_front();
        }
        ring.push_back(refused);
    }

    /// The refusals kept, newest first.
    pub fn newest_first(&self) -> Vec<Refused> {
        lock(&self.ring).iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16) -> Refused {
        Refused {
            at: SystemTime::UNIX_EPOCH,
            kind: "http",
            status,
            reason: "no_route",
            route: None,
        }
    }

    #[test]
    fn keeps_the_newest_up_to_capacity() {
        let ring = RecentRefusals::default();
        for i in 0..CAPACITY + 5 {
            ring.record(refused(u16::try_from(i).expect("small")));
        }
        let kept = ring.newest_first();
        assert_eq!(kept.len(), CAPACITY);
        assert_eq!(kept[0].status as usize, CAPACITY + 4);
        assert_eq!(kept[CAPACITY - 1].status, 5);
    }
}
