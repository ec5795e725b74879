//! Single use of tickets: each `jti` is accepted once within the ticket's lifetime. Through
//! the process's shared-state Redis when one is configured (every replica then shares the
//! check, `SET key nonce NX PX ttl`), or a route's own `replayStore`; else in this process's
//! memory. A store that cannot answer refuses tickets (fail closed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wsgate_core::table::shared::parse_redis_url;

use crate::lock::lock;
use crate::shared::{RedisStore, Shared, StoreError};

/// Longest a `jti` is remembered, whatever its `exp` says: a signed `exp` near `u64::MAX`
/// must not overflow the clock (a ticket that far out is as good as never expiring).
const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 86400);

/// Why a `jti` was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// Seen before.
    Replayed,
    /// The store could not answer; the label says how it failed.
    Unavailable(&'static str),
}

/// Entries the memory store holds before it first looks for expired ones.
const PRUNE_FROM: usize = 10_000;

/// The memory store: `jti` keys and when each expires. Expired entries are dropped when the
/// map has doubled since the last sweep, so a sweep costs O(1) per insert on average however
/// many tickets are live (L5), and the map holds at most twice the live entries.
#[derive(Default)]
struct Memory {
    seen: HashMap<String, Instant>,
    prune_at: usize,
    sweeps: u64,
}

/// Replay state shared by every route of the process.
#[derive(Default)]
pub struct ReplayGuard {
    memory: Mutex<Memory>,
    shared: Shared,
    /// Stores named by routes (`replayStore`), by URL.
    stores: Mutex<HashMap<String, Arc<RedisStore>>>,
}

impl ReplayGuard {
    /// A guard that uses the process's shared store when there is one.
    pub fn new(shared: Shared) -> Self {
        Self {
            shared,
            ..Self::default()
        }
    }

    /// Records `jti` for `ttl`; fails if it was recorded before (or the store is down).
    /// `route_store` is the route's own `replayStore`, which wins over the shared store.
    pub async fn use_once(
        &self,
        jti: &str,
        ttl: Duration,
        route_store: Option<&str>,
    ) -> Result<(), ReplayError> {
        let key = format!("wsgate:ticket:{jti}");
        let ttl = ttl.min(MAX_TTL);
        let store = match route_store {
            Some(url) => Some(self.route_store(url)?),
            None => self.shared.redis().cloned(),
        };
        match store {
            None => self.use_in_memory(key, ttl),
            Some(store) => match set_once(&store, &key, ttl).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(ReplayError::Replayed),
                Err(why) => Err(ReplayError::Unavailable(why.label())),
            },
        }
    }

    fn route_store(&self, url: &str) -> Result<Arc<RedisStore>, ReplayError> {
        let mut stores = lock(&self.stores);
        if let Some(s) = stores.get(url) {
            return Ok(s.clone());
        }
        // Validated when the route was compiled; a route-level URL carries no password file.
        let (target, _) = parse_redis_url(url).map_err(|_| ReplayError::Unavailable("config"))?;
        let store = Arc::new(RedisStore::new(target, self.shared.metrics().clone()));
        stores.insert(url.to_string(), store.clone());
        Ok(store)
    }

    fn use_in_memory(&self, key: String, ttl: Duration) -> Result<(), ReplayError> {
        let now = Instant::now();
        let mut memory = lock(&self.memory);
        let m = &mut *memory;
        if m.seen.len() >= m.prune_at.max(PRUNE_FROM) {
            m.seen.retain(|_, until| *until > now);
            m.prune_at = m.seen.len() * 2;
            m.sweeps += 1;
        }
        match m.seen.get(&key) {
            Some(until) if *until > now => Err(ReplayError::Replayed),
            _ => {
                m.seen.insert(key, now + ttl);
                Ok(())
            }
        }
    }
}

/// `SET key nonce NX PX ttl`: true if this call set it. The value is a fresh nonce so that a
/// retried call whose first attempt did land recognises its own write.
async fn set_once(store: &RedisStore, key: &str, ttl: Duration) -> Result<bool, StoreError> {
    let nonce = format!("{:016x}", fastrand::u64(..));
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut set = redis::cmd("SET");
    set.arg(key).arg(&nonce).arg("NX").arg("PX").arg(ms);
    let reply: Option<String> = store.query("ticket_use", &set).await?;
    if reply.is_some() {
        return Ok(true);
    }
    let mut get = redis::cmd("GET");
    get.arg(key);
    let holder: Option<String> = store.query("ticket_use", &get).await?;
    Ok(holder.as_deref() == Some(nonce.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_refuses_the_second_use_until_expiry() {
        let g = ReplayGuard::default();
        assert_eq!(
            g.use_once("a", Duration::from_millis(50), None).await,
            Ok(())
        );
        assert_eq!(
            g.use_once("a", Duration::from_millis(50), None).await,
            Err(ReplayError::Replayed)
        );
        assert_eq!(
            g.use_once("b", Duration::from_millis(50), None).await,
            Ok(())
        );
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(
            g.use_once("a", Duration::from_millis(50), None).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn l5_the_memory_store_sweeps_in_amortised_constant_time() {
        // 100 000 live tickets: the audit's store swept all of them on every insert past
        // 10 000 (90 000 sweeps); doubling keeps it to a handful.
        let g = ReplayGuard::default();
        for i in 0..100_000 {
            let jti = format!("live-{i}");
            assert_eq!(
                g.use_once(&jti, Duration::from_secs(600), None).await,
                Ok(())
            );
        }
        let sweeps = lock(&g.memory).sweeps;
        assert!(sweeps <= 4, "{sweeps} sweeps for 100 000 inserts");
        assert_eq!(
            g.use_once("live-7", Duration::from_secs(600), None).await,
            Err(ReplayError::Replayed),
            "every live ticket is still remembered"
        );
    }

    #[tokio::test]
    async fn l4_ticket_exp_near_u64_max_does_not_overflow() {
        let g = ReplayGuard::default();
        let forever = Duration::from_secs(u64::MAX);
        assert_eq!(g.use_once("far", forever, None).await, Ok(()));
        assert_eq!(
            g.use_once("far", forever, None).await,
            Err(ReplayError::Replayed)
        );
    }

    #[tokio::test]
    async fn an_unreachable_store_fails_closed() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("redis://{}", free.local_addr().expect("addr"));
        drop(free);
        let g = ReplayGuard::default();
        assert!(matches!(
            g.use_once("a", Duration::from_secs(5), Some(&url)).await,
            Err(ReplayError::Unavailable(_))
        ));
    }
}
