//! Connection counts every replica shares (`limits.scope: Cluster`), kept in Redis so that
//! a replica that dies cannot leak what it counted.
//!
//! Per route, under one hash tag (`{wsgate:limits:<route>}`, so a Redis Cluster keeps a
//! route's keys in one slot for the scripts):
//!
//! ```text
//!   …:leases        sorted set   replica id -> lease deadline (Redis clock, ms)
//!   …:conns         hash         replica id -> its open connections on the route
//!   …:ip:<address>  hash         replica id -> its open connections from that client
//! ```
//!
//! Admission is one script: fields of replicas whose lease ran out are dropped, the live
//! ones summed and compared with the limits, and this replica's fields incremented when
//! admitted. Release is one script (decrement). Every [`RENEW_EVERY`] a replica renews its
//! lease on each route it counts on. Its true counts are re-asserted where they may be
//! wrong: the keys of a call that failed (a lost decrement), and every key of a route
//! whose lease the replica found gone (it was paused past the lease, or Redis restarted
//! empty) or that turned `scope: Cluster` with connections open. Every [`TOUCH_EVERY`] it
//! pushes out the expiry of the keys it holds counts in; keys nobody holds (only dead
//! replicas counted there) expire after [`KEY_TTL`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use redis::Script;

use super::redis::{RedisStore, StoreError};

/// How long a replica's counts outlive its last renewal.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often a replica renews its leases (and re-asserts the counts that may be wrong).
pub const RENEW_EVERY: Duration = Duration::from_millis(3_333);
/// Count keys nobody touched for this long expire.
const KEY_TTL: Duration = Duration::from_secs(300);
/// How often a replica pushes out the expiry of the keys it holds counts in.
pub const TOUCH_EVERY: Duration = Duration::from_secs(90);
/// The handshake waits on admission: a store that does not answer within this falls back.
pub const ADMIT_TIMEOUT: Duration = Duration::from_millis(500);
/// Deadline of a release or a renewal (nobody waits on them).
const BACKGROUND_TIMEOUT: Duration = Duration::from_secs(1);
/// Most client keys re-asserted by one script call.
const RENEW_CHUNK: usize = 500;

/// KEYS: leases, conns, ip. ARGV: replica, per-IP max, per-route max (0: none), lease ms,
/// key TTL ms. Returns the verdict, 0 (admitted), 1 (per-IP limit) or 2 (per-route limit),
/// and 1 when this replica had no lease on the route.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local fresh = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
local function live(key)
  local all = redis.call('HGETALL', key)
  local sum = 0
  for i = 1, #all, 2 do
    if redis.call('ZSCORE', KEYS[1], all[i]) then
      sum = sum + tonumber(all[i + 1])
    else
      redis.call('HDEL', key, all[i])
    end
  end
  return sum
end
local per_ip, per_route = tonumber(ARGV[2]), tonumber(ARGV[3])
local verdict = 0
if per_ip > 0 and live(KEYS[3]) >= per_ip then
  verdict = 1
elseif per_route > 0 and live(KEYS[2]) >= per_route then
  verdict = 2
else
  redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
return {verdict, fresh}
";

/// KEYS: conns, ip. ARGV: replica.
const RELEASE: &str = r"
for i = 1, 2 do
  if redis.call('HINCRBY', KEYS[i], ARGV[1], -1) <= 0 then
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
return 0
";

/// KEYS: leases, conns, ip... ARGV: replica, lease ms, key TTL ms, route count (-1: leave
/// it), then one count per ip key (0 removes the field). Returns 1 when this replica had no
/// lease on the route (its counts there are gone or were dropped).
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local lost = 0
if not score or tonumber(score) <= now then lost = 1 end
if tonumber(ARGV[4]) < 0 then return lost end
for i = 2, #KEYS do
  local n = tonumber(ARGV[i + 2])
  if n > 0 then
    redis.call('HSET', KEYS[i], ARGV[1], n)
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  else
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
return lost
";

/// KEYS: keys this replica holds counts in. ARGV: key TTL ms.
const TOUCH: &str = r"
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return 0
";

/// What the shared counts say about one more connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted and counted.
    Admitted,
    /// The client address has its limit of connections across the replicas.
    PerIp,
    /// The route has its limit of connections across the replicas.
    PerRoute,
}

/// This replica's handle on the shared connection counts.
pub struct SharedCounts {
    store: Arc<RedisStore>,
    replica: String,
    admit: Script,
    release: Script,
    renew: Script,
    touch: Script,
}

impl SharedCounts {
    /// Counts in `store` under a fresh replica id (a restarted process never inherits the
    /// counts of its previous life).
    pub fn new(store: Arc<RedisStore>) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "wsgate".into());
        Self {
            store,
            replica: format!("{host}-{:016x}", fastrand::u64(..)),
            admit: Script::new(ADMIT),
            release: Script::new(RELEASE),
            renew: Script::new(RENEW),
            touch: Script::new(TOUCH),
        }
    }

    /// This replica's field name in the shared counts.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Admits one more connection on `route` from `ip` (already reduced to its limit key)
    /// if the live counts of every replica leave room under the limits; also says whether
    /// this replica had no lease on the route (then its other counts there must be
    /// re-asserted).
    pub async fn admit(
        &self,
        route: &str,
        ip: IpAddr,
        per_ip: Option<u32>,
        per_route: Option<u32>,
    ) -> Result<(Verdict, bool), StoreError> {
        let tag = tag(route);
        let mut call = self.admit.prepare_invoke();
        call.key(format!("{tag}:leases"))
            .key(format!("{tag}:conns"))
            .key(format!("{tag}:ip:{ip}"))
            .arg(&self.replica)
            .arg(per_ip.unwrap_or(0))
            .arg(per_route.unwrap_or(0))
            .arg(millis(LEASE))
            .arg(millis(KEY_TTL));
        let (verdict, fresh): (u8, u8) = self
            .store
            .invoke_within("limit_admit", &call, ADMIT_TIMEOUT)
            .await?;
        let verdict = match verdict {
            0 => Verdict::Admitted,
            1 => Verdict::PerIp,
            _ => Verdict::PerRoute,
        };
        Ok((verdict, fresh == 1))
    }

    /// Releases one connection counted by [`SharedCounts::admit`].
    pub async fn release(&self, route: &str, ip: IpAddr) -> Result<(), StoreError> {
        let tag = tag(route);
        let mut call = self.release.prepare_invoke();
        call.key(format!("{tag}:conns"))
            .key(format!("{tag}:ip:{ip}"))
            .arg(&self.replica);
        self.store
            .invoke_within("limit_release", &call, BACKGROUND_TIMEOUT)
            .await
    }

    /// Renews this replica's lease on `route` and, with `conns`, sets its counts there: on
    /// the route, and each of `clients`' (0 removes the field). True when the lease was
    /// gone: the replica's counts there are lost and must all be re-asserted.
    pub async fn renew(
        &self,
        route: &str,
        conns: Option<u32>,
        clients: &[(IpAddr, u32)],
    ) -> Result<bool, StoreError> {
        let tag = tag(route);
        let mut chunks: Vec<&[(IpAddr, u32)]> = clients.chunks(RENEW_CHUNK).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let conns = conns.map_or(-1, i64::from);
        let mut lost = false;
        for chunk in chunks {
            let mut call = self.renew.prepare_invoke();
            call.key(format!("{tag}:leases"))
                .key(format!("{tag}:conns"))
                .arg(&self.replica)
                .arg(millis(LEASE))
                .arg(millis(KEY_TTL))
                .arg(conns);
            for (ip, n) in chunk {
                call.key(format!("{tag}:ip:{ip}")).arg(*n);
            }
            let gone: u8 = self
                .store
                .invoke_within("limit_renew", &call, BACKGROUND_TIMEOUT)
                .await?;
            // Later chunks find the lease the first one renewed.
            lost |= gone == 1;
        }
        Ok(lost)
    }

    /// Pushes out the expiry of this replica's count keys on `route`: the route's and
    /// `clients'`.
    pub async fn touch(&self, route: &str, clients: &[IpAddr]) -> Result<(), StoreError> {
        let tag = tag(route);
        let mut chunks: Vec<&[IpAddr]> = clients.chunks(RENEW_CHUNK).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for chunk in chunks {
            let mut call = self.touch.prepare_invoke();
            call.key(format!("{tag}:conns")).arg(millis(KEY_TTL));
            for ip in chunk {
                call.key(format!("{tag}:ip:{ip}"));
            }
            self.store
                .invoke_within::<()>("limit_touch", &call, BACKGROUND_TIMEOUT)
                .await?;
        }
        Ok(())
    }
}

/// The hash tag of a route's keys.
fn tag(route: &str) -> String {
    format!("{{wsgate:limits:{route}}}")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
