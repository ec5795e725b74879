//! Single use of tickets: each `jti` is accepted once within the ticket's lifetime. In this
//! process's memory by default; with a `redis://` store, every replica shares the check
//! through `SET key 1 NX PX ttl`. A store that cannot answer refuses tickets (fail closed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wsgate_core::table::ticket::parse_redis_url;

/// Time allowed for connecting to and asking the store.
const STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// Idle store connections kept for reuse.
const MAX_IDLE: usize = 8;

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
        match store {
            None => self.use_in_memory(key, ttl),
            Some(url) => {
                let store = {
                    let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
                    stores
                        .entry(url.to_string())
                        .or_insert_with(|| Arc::new(RedisStore::new(url)))
                        .clone()
                };
                store.set_nx(&key, ttl).await
            }
        }
    }

    fn use_in_memory(&self, key: String, ttl: Duration) -> Result<(), ReplayError> {
        let now = Instant::now();
        let mut seen = self.memory.lock().unwrap_or_else(|p| p.into_inner());
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

/// `redis://[:password@]host:port[/db]`, spoken to in RESP over plain TCP.
struct RedisStore {
    addr: String,
    password: Option<String>,
    db: u32,
    idle: Mutex<Vec<BufReader<TcpStream>>>,
}

fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

impl RedisStore {
    fn new(url: &str) -> Self {
        // The URL was validated when the route was compiled.
        let (addr, password, db) =
            parse_redis_url(url).unwrap_or_else(|_| (url.to_string(), None, 0));
        Self {
            addr,
            password,
            db,
            idle: Mutex::new(Vec::new()),
        }
    }

    async fn connect(&self) -> Result<BufReader<TcpStream>, &'static str> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|_| "connect")?;
        let _ = stream.set_nodelay(true);
        let mut conn = BufReader::new(stream);
        if let Some(pw) = &self.password
            && !ask(&mut conn, &command(&["AUTH", pw]))
                .await?
                .starts_with('+')
        {
            return Err("auth");
        }
        if self.db != 0
            && !ask(&mut conn, &command(&["SELECT", &self.db.to_string()]))
                .await?
                .starts_with('+')
        {
            return Err("select");
        }
        Ok(conn)
    }

    async fn set_nx(&self, key: &str, ttl: Duration) -> Result<(), ReplayError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let ms = ttl.as_millis().max(1).to_string();
        let cmd = command(&["SET", key, "1", "NX", "PX", &ms]);
        let attempt = async {
            let mut conn = match pooled {
                Some(c) => c,
                None => self.connect().await?,
            };
            let reply = ask(&mut conn, &cmd).await?;
            Ok::<_, &'static str>((conn, reply))
        };
        let (conn, reply) = match tokio::time::timeout(STORE_TIMEOUT, attempt).await {
            Err(_) => return Err(ReplayError::Unavailable("timeout")),
            Ok(Err(why)) => return Err(ReplayError::Unavailable(why)),
            Ok(Ok(pair)) => pair,
        };
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        match reply.as_str() {
            "+OK" => Ok(()),
            "$-1" => Err(ReplayError::Replayed),
            _ => Err(ReplayError::Unavailable("error_reply")),
        }
    }
}

/// Sends one command and reads a one-line reply (`+OK`, `$-1`, `-ERR ...`).
async fn ask(conn: &mut BufReader<TcpStream>, cmd: &[u8]) -> Result<String, &'static str> {
    conn.get_mut().write_all(cmd).await.map_err(|_| "io")?;
    let mut line = String::new();
    let n = conn.read_line(&mut line).await.map_err(|_| "io")?;
    if n == 0 {
        return Err("closed");
    }
    Ok(line.trim_end().to_string())
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
