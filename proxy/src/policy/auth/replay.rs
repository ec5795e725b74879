//! Single use of tickets: each `jti` is accepted once within the ticket's lifetime. In this
//! process's memory by default; with a `redis://` store, every replica shares the check
//! through `SET key 1 NX PX ttl`. A store that cannot answer refuses tickets (fail closed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::redis::RedisStore;
use crate::lock::lock;

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

/// Replay state shared by every route of the process.
#[derive(Default)]
pub struct ReplayGuard {
    memory: Mutex<HashMap<String, Instant>>,
    stores: Mutex<HashMap<String, Arc<RedisStore>>>,
}

impl ReplayGuard {
    /// Records `jti` for `ttl`; fails if it was recorded before (or the store is down).
    pub async fn use_once(
        &self,
        jti: &str,
        ttl: Duration,
        store: Option<&str>,
    ) -> Result<(), ReplayError> {
        let key = format!("wsgate:ticket:{jti}");
        let ttl = ttl.min(MAX_TTL);
        match store {
            None => self.use_in_memory(key, ttl),
            Some(url) => {
                let store = {
                    let mut stores = lock(&self.stores);
                    stores
                        .entry(url.to_string())
                        .or_insert_with(|| Arc::new(RedisStore::new(url)))
                        .clone()
                };
                match store.set_nx(&key, ttl).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(ReplayError::Replayed),
                    Err(why) => Err(ReplayError::Unavailable(why)),
                }
            }
        }
    }

    fn use_in_memory(&self, key: String, ttl: Duration) -> Result<(), ReplayError> {
        let now = Instant::now();
        let mut seen = lock(&self.memory);
        if seen.len() > 10_000 {
            seen.retain(|_, until| *until > now);
        }
        match seen.get(&key) {
            Some(until) if *until > now => Err(ReplayError::Replayed),
            _ => {
                seen.insert(key, now + ttl);
                Ok(())
            }
        }
    }
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
