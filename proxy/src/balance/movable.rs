//! The connections of one endpoint that rebalancing may move: tunnels of routes with
//! `loadBalancing.rebalance`, enlisted once they run (never while in their handshake), each
//! with a token of its own (a child of the endpoint's drain token) that asks it alone to
//! close. Enlisting and leaving take the lock once per connection, never per message.

use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;

use crate::lock::lock;

/// The movable connections of an endpoint.
#[derive(Debug, Default)]
pub struct Movable {
    members: Mutex<Members>,
}

#[derive(Debug, Default)]
struct Members {
    next_id: u64,
    /// By id; an index map so that a uniformly random member is found in O(1).
    by_id: IndexMap<u64, Member>,
    /// Moved (asked to close) and not yet ended.
    pending: u64,
}

#[derive(Debug)]
struct Member {
    route: Arc<str>,
    token: CancellationToken,
    moved: bool,
}

/// A tunnel's place among its endpoint's movable connections; leaves on drop.
#[derive(Debug)]
pub struct Enlisted {
    movable: Arc<Movable>,
    id: u64,
    /// Fires when rebalancing moves this connection (or its endpoint drains).
    pub token: CancellationToken,
}

impl Drop for Enlisted {
    fn drop(&mut self) {
        let mut m = lock(&self.movable.members);
        if let Some(member) = m.by_id.swap_remove(&self.id)
            && member.moved
        {
            m.pending = m.pending.saturating_sub(1);
        }
    }
}

impl Movable {
    /// Enlists a running tunnel of `route`; its token is a child of the endpoint's `drain`.
    pub fn enlist(this: &Arc<Self>, drain: &CancellationToken, route: Arc<str>) -> Enlisted {
        let token = drain.child_token();
        let mut m = lock(&this.members);
        let id = m.next_id;
        m.next_id += 1;
        m.by_id.insert(
            id,
            Member {
                route,
                token: token.clone(),
                moved: false,
            },
        );
        drop(m);
        Enlisted {
            movable: this.clone(),
            id,
            token,
        }
    }

    /// Connections asked to close that have not ended yet: the live count still holds
    /// them, the balance they leave behind does not.
    pub fn pending(&self) -> u64 {
        lock(&self.members).pending
    }

    /// Asks one connection of `route`, chosen uniformly at random among those not moved
    /// yet, to close. False when there is none.
    pub fn move_one(&self, route: &str) -> bool {
        let mut m = lock(&self.members);
        let n = m.by_id.len();
        if n == 0 {
            return false;
        }
        let start = fastrand::usize(..n);
        let found = (0..n).map(|i| (start + i) % n).find(|&i| {
            m.by_id
                .get_index(i)
                .is_some_and(|(_, x)| !x.moved && !x.token.is_cancelled() && &*x.route == route)
        });
        let Some((_, member)) = found.and_then(|i| m.by_id.get_index_mut(i)) else {
            return false;
        };
        member.moved = true;
        member.token.cancel();
        m.pending += 1;
        true
    }

    /// Enlisted connections (moved or not).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        lock(&self.members).by_id.len()
    }
}
