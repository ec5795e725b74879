//! Socket.IO (Engine.IO) sessions: a session starts with a polling handshake whose response
//! body is the open packet `0{"sid":"…","pingInterval":…,"pingTimeout":…}`; later polling
//! and upgrade requests carry `?sid=…`. wsgate reads the sid from the handshake response as
//! it streams to the client, remembers `sid -> endpoint`, and sends the session's later
//! requests there. Entries live as long as the session could (ping interval plus timeout
//! after the last request) and are refreshed by each request. With shared state, the table
//! is backed by Redis ([`SharedSessions`]) so that any replica finds any session.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wsgate_core::affinity::hash::hash64;
use wsgate_core::affinity::query_param;

use super::endpoint::EndpointGuard;
pub use super::sessions_shared::SharedSessions;
use crate::lock::lock;

/// Shards of the session map: a request locks one briefly, so contention stays low.
const SHARDS: usize = 32;
/// Most sessions remembered at once (a bound on memory, ~100 bytes each).
const MAX_ENTRIES: usize = 1 << 20;
/// Entry lifetime when the open packet gives no ping settings.
const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// Slack on top of the session's own timeout (clocks, slow polls).
const TTL_SLACK: Duration = Duration::from_secs(10);
/// Expired sessions are swept (and stop counting on their endpoint) at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What an Engine.IO request says about its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineIo<'a> {
    /// Session id, once the handshake is done.
    pub sid: Option<&'a str>,
    /// Long-polling transport (the handshake response then carries the open packet).
    pub polling: bool,
}

/// Recognises an Engine.IO request by its `EIO=` query parameter.
pub fn engine_io(query: Option<&str>) -> Option<EngineIo<'_>> {
    query_param(query, "EIO")?;
    let transport = query_param(query, "transport");
    Some(EngineIo {
        sid: query_param(query, "sid").filter(|s| !s.is_empty()),
        polling: transport.is_none_or(|t| t == "polling"),
    })
}

#[derive(serde::Deserialize)]
struct OpenPacket {
    sid: String,
    #[serde(rename = "pingInterval")]
    ping_interval: Option<u64>,
    #[serde(rename = "pingTimeout")]
    ping_timeout: Option<u64>,
}

/// Parses the open packet out of the start of a handshake response body (Engine.IO 4:
/// `0{…}`; Engine.IO 3 prefixes a length). Returns the sid and the session timeout, or
/// `None` while the packet is incomplete or absent.
pub fn parse_open_packet(body: &[u8]) -> Option<(String, Duration)> {
    let mut from = 0;
    while let Some(pos) = body[from..].windows(2).position(|w| w == b"0{") {
        let start = from + pos + 1;
        let mut stream =
            serde_json::Deserializer::from_slice(&body[start..]).into_iter::<OpenPacket>();
        if let Some(Ok(open)) = stream.next()
            && valid_sid(&open.sid)
        {
            let ttl = match (open.ping_interval, open.ping_timeout) {
                (Some(i), Some(t)) => Duration::from_millis(i.saturating_add(t)) + TTL_SLACK,
                _ => DEFAULT_TTL,
            };
            return Some((open.sid, ttl));
        }
        from = start;
    }
    None
}

fn valid_sid(sid: &str) -> bool {
    (1..=128).contains(&sid.len()) && sid.bytes().all(|b| b.is_ascii_graphic() && b != b'&')
}

struct Entry {
    addr: SocketAddr,
    ttl: Duration,
    expires: Instant,
    /// When the shared store last heard of this session from this replica.
    synced: Instant,
    /// A polling session counts as one connection on its endpoint until it upgrades (the
    /// tunnel then counts) or expires, so least connections sees sessions being set up.
    hold: Option<EndpointGuard>,
}

#[derive(Default)]
struct Shard {
    map: HashMap<Box<str>, Entry>,
    inserts: u64,
}

/// `sid -> endpoint` for live Engine.IO sessions.
pub struct SessionStore {
    shards: Box<[Mutex<Shard>]>,
    len: AtomicU64,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last sweep.
    swept: AtomicU64,
    /// The table every replica shares, if configured.
    remote: Option<SharedSessions>,
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::with_remote(None)
    }
}

impl SessionStore {
    /// A table backed by `remote` (shared with the other replicas) when given.
    pub fn with_remote(remote: Option<SharedSessions>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            len: AtomicU64::new(0),
            epoch: Instant::now(),
            swept: AtomicU64::new(0),
            remote,
        }
    }

    /// The shared table, if configured.
    pub fn remote(&self) -> Option<&SharedSessions> {
        self.remote.as_ref()
    }

    /// Makes sure a session another replica learned is known here before the request is
    /// balanced: a sid missing from this replica's table is looked up in the shared one.
    pub async fn prefetch(&self, sid: &str) {
        let Some(remote) = &self.remote else {
            return;
        };
        if !valid_sid(sid) || self.shard(sid).map.contains_key(sid) {
            return;
        }
        if let Some((addr, ttl)) = remote.fetch(sid).await {
            self.learn(sid, addr, ttl, None);
        }
    }

    fn shard(&self, sid: &str) -> std::sync::MutexGuard<'_, Shard> {
        let i = (hash64(0, sid.as_bytes()) % SHARDS as u64) as usize;
        lock(&self.shards[i])
    }

    /// Remembers that session `sid` lives on `addr` for `ttl` after each request; `hold`
    /// counts the session on its endpoint until it upgrades or expires.
    pub fn learn(&self, sid: &str, addr: SocketAddr, ttl: Duration, hold: Option<EndpointGuard>) {
        let now = Instant::now();
        let mut shard = self.shard(sid);
        shard.inserts += 1;
        if shard.inserts.is_multiple_of(256) || shard.map.len() >= MAX_ENTRIES / SHARDS {
            let before = shard.map.len();
            shard.map.retain(|_, e| e.expires > now);
            self.len
                .fetch_sub((before - shard.map.len()) as u64, Ordering::Relaxed);
        }
        if shard.map.len() >= MAX_ENTRIES / SHARDS {
            tracing::warn!("Socket.IO session table full: session not remembered");
            return;
        }
        let entry = Entry {
            addr,
            ttl,
            expires: now + ttl,
            synced: now,
            hold,
        };
        if shard.map.insert(sid.into(), entry).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The endpoint of session `sid`, refreshing its lifetime; `upgrading` (the WebSocket
    /// upgrade of the session) stops counting the session itself, as its tunnel now counts.
    pub fn lookup(&self, sid: &str, upgrading: bool) -> Option<SocketAddr> {
        self.find(sid, upgrading).map(|(addr, _)| addr)
    }

    /// Like [`SessionStore::lookup`], and whether the session still counts on its endpoint.
    pub fn find(&self, sid: &str, upgrading: bool) -> Option<(SocketAddr, bool)> {
        self.sweep_if_due();
        let now = Instant::now();
        let mut shard = self.shard(sid);
        let entry = shard.map.get_mut(sid)?;
        if entry.expires <= now {
            shard.map.remove(sid);
            self.len.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        entry.expires = now + entry.ttl;
        if upgrading {
            entry.hold = None;
        }
        if let Some(remote) = &self.remote
            && now.duration_since(entry.synced) > entry.ttl / 3
        {
            entry.synced = now;
            remote.refresh(sid, entry.ttl);
        }
        Some((entry.addr, entry.hold.is_some()))
    }

    /// Drops expired sessions (releasing their count) if the last sweep is a while ago.
    pub fn sweep_if_due(&self) {
        let now_ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.swept.load(Ordering::Relaxed);
        let every = u64::try_from(SWEEP_EVERY.as_millis()).unwrap_or(1000);
        if now_ms.saturating_sub(last) < every
            || self
                .swept
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let now = Instant::now();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let before = shard.map.len();
            shard.map.retain(|_, e| e.expires > now);
            self.len
                .fetch_sub((before - shard.map.len()) as u64, Ordering::Relaxed);
        }
    }

    /// Sessions remembered (expired ones included until swept).
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Relaxed)
    }

    /// True when no session is remembered.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets sessions of endpoints that left the table.
    pub fn forget_endpoints_not_in(&self, keep: &HashSet<SocketAddr>) {
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let before = shard.map.len();
            shard.map.retain(|_, e| keep.contains(&e.addr));
            self.len
                .fetch_sub((before - shard.map.len()) as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
