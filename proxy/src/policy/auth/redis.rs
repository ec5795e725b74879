//! A minimal Redis client for the shared replay store: RESP over plain TCP, `AUTH` and
//! `SELECT` on connect, `SET NX PX`, a few idle connections kept for reuse.

use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wsgate_core::table::ticket::parse_redis_url;

use crate::lock::lock;

/// Time allowed for connecting to and asking the store.
const STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// Idle store connections kept for reuse.
const MAX_IDLE: usize = 8;

/// `redis://[:password@]host:port[/db]`, spoken to in RESP over plain TCP.
pub struct RedisStore {
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
    /// A store for `url`, connected on first use.
    pub fn new(url: &str) -> Self {
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

    /// `SET key 1 NX PX ttl`: true if the key was set now, false if it existed; the error
    /// says how the store failed.
    pub async fn set_nx(&self, key: &str, ttl: Duration) -> Result<bool, &'static str> {
        let pooled = lock(&self.idle).pop();
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
            Err(_) => return Err("timeout"),
            Ok(Err(why)) => return Err(why),
            Ok(Ok(pair)) => pair,
        };
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        match reply.as_str() {
            "+OK" => Ok(true),
            "$-1" => Ok(false),
            _ => Err("error_reply"),
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
