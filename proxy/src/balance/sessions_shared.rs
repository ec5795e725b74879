//! Socket.IO sessions shared between replicas through Redis: the replica that sees a
//! session's handshake publishes `wsgate:sio:<sid> = "<endpoint> <ttl ms>"` with the session's
//! own Engine.IO lifetime (ping interval + ping timeout + slack) as the key's expiry, before
//! the client can read the sid; a replica that gets a request for a sid it does not know
//! reads the key and goes to the same endpoint. Each replica refreshes the expiry while the
//! session keeps polling through it.
//!
//! Every call has a short budget: with Redis away a session falls back to this replica's
//! own table (requests of a session spread over replicas may then fail, as without shared
//! state), and nothing waits longer than the budget.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::shared::RedisStore;

/// Longest a request or a handshake response waits for the session store: long enough for
/// a loaded store to answer (a session whose request misses it may break), short enough
/// that an outage delays requests without stalling them.
const BUDGET: Duration = Duration::from_secs(1);

/// The shared half of the session table.
#[derive(Clone)]
pub struct SharedSessions {
    store: Arc<RedisStore>,
}

fn key(sid: &str) -> String {
    format!("wsgate:sio:{sid}")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SharedSessions {
    /// Sessions kept in `store`.
    pub fn new(store: Arc<RedisStore>) -> Self {
        Self { store }
    }

    /// Records that `sid` lives on `addr` for `ttl`; false if the store did not confirm it
    /// within the budget.
    pub async fn publish(&self, sid: &str, addr: SocketAddr, ttl: Duration) -> bool {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key(sid))
            .arg(format!("{addr} {}", millis(ttl)))
            .arg("PX")
            .arg(millis(ttl));
        let call = self
            .store
            .query_within::<()>("session_publish", &cmd, BUDGET);
        call.await.is_ok()
    }

    /// The endpoint and lifetime another replica published for `sid`.
    pub async fn fetch(&self, sid: &str) -> Option<(SocketAddr, Duration)> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key(sid));
        let call = self
            .store
            .query_within::<Option<String>>("session_lookup", &cmd, BUDGET);
        let found = call.await.ok()?.as_deref().and_then(parse_value);
        let result = if found.is_some() { "found" } else { "missing" };
        let lookups = &self.store.metrics().session_lookups;
        lookups.with_label_values(&[result]).inc();
        found
    }

    /// Pushes the session's expiry out by `ttl` again, in the background.
    pub fn refresh(&self, sid: &str, ttl: Duration) {
        let store = self.store.clone();
        let mut cmd = redis::cmd("PEXPIRE");
        cmd.arg(key(sid)).arg(millis(ttl));
        tokio::spawn(async move {
            let _ = store
                .query_within::<i64>("session_refresh", &cmd, BUDGET)
                .await;
        });
    }
}

/// `"<addr> <ttl ms>"`.
fn parse_value(value: &str) -> Option<(SocketAddr, Duration)> {
    let (addr, ttl) = value.split_once(' ')?;
    Some((addr.parse().ok()?, Duration::from_millis(ttl.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_garbage_is_ignored() {
        assert_eq!(
            parse_value("10.0.0.7:3000 55000"),
            Some((
                SocketAddr::from(([10, 0, 0, 7], 3000)),
                Duration::from_secs(55)
            ))
        );
        assert_eq!(
            parse_value("[::1]:80 10"),
            Some((
                SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 80)),
                Duration::from_millis(10)
            ))
        );
        for bad in ["", "10.0.0.7:3000", "x 1", "10.0.0.7:3000 -1"] {
            assert_eq!(parse_value(bad), None, "{bad}");
        }
    }
}
