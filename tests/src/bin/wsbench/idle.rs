//! Idle connections that watch what happens to them: open many, print `ready N`, record every
//! close (its code and when it came) while idle, and, when the check file appears, send one
//! message on each connection still open and wait for its echo. Pings are answered.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::{Instant, timeout};

use crate::dial::{Conn, Target};
use crate::{load, tries, wire};

/// Bound on one connection's open (TCP, TLS, upgrade).
const OPEN: Duration = Duration::from_secs(10);
/// Bound on one connection's check (message out, echo back).
const CHECK: Duration = Duration::from_secs(10);

/// Settings of an idle run.
pub struct Idle {
    pub target: Target,
    pub connections: usize,
    pub first: usize,
    pub parallel: usize,
    /// When this file exists, the open connections are checked and the run ends.
    pub check_file: Option<PathBuf>,
    /// The run ends after this long, or once every connection has closed.
    pub duration: Duration,
}

/// How one connection ended.
enum End {
    /// Closed while idle: the close code (none for a TCP close without a close frame) and
    /// when (Unix ms).
    Closed(Option<u16>, u64),
    /// Open at the check, and it echoed.
    Echoed,
    /// Open at the check, but the echo never came.
    NoEcho(String),
}

/// Runs the idle connections; one JSON object with the outcome of every connection.
pub async fn idle(p: Idle) -> anyhow::Result<serde_json::Value> {
    let target = Rc::new(p.target);
    let (tx, rx) = watch::channel(false);
    let mut tasks = Vec::with_capacity(p.connections);
    let mut open_errors = 0u64;
    let mut first_error: Option<String> = None;
    let mut next = 0;
    while next < p.connections {
        let batch: Vec<_> = (next..p.connections.min(next + p.parallel))
            .map(|i| {
                let (target, at) = (target.clone(), p.first + i);
                tokio::task::spawn_local(async move { timeout(OPEN, target.open(at)).await })
            })
            .collect();
        for task in batch {
            match task.await {
                Ok(Ok(Ok((conn, buf)))) => {
                    tasks.push(tokio::task::spawn_local(watch_one(conn, buf, rx.clone())));
                }
                other => {
                    open_errors += 1;
                    let e = match other {
                        Ok(Ok(Err(e))) => format!("{e:#}"),
                        Err(e) => e.to_string(),
                        _ => "open took over 10 s".into(),
                    };
                    first_error.get_or_insert(e);
                }
            }
        }
        next += p.parallel;
    }
    println!("ready {}", tasks.len());
    let deadline = Instant::now() + p.duration;
    loop {
        let asked = p.check_file.as_ref().is_some_and(|f| f.exists());
        if asked || Instant::now() >= deadline || tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let checked = tasks.iter().filter(|t| !t.is_finished()).count();
    let _ = tx.send(true);
    let mut codes = std::collections::BTreeMap::<String, u64>::new();
    let mut closes = Vec::new();
    let (mut echoed, mut no_echo) = (0u64, 0u64);
    for task in tasks {
        match timeout(CHECK + Duration::from_secs(2), task).await {
            Ok(Ok(End::Closed(code, at))) => {
                let key = code.map_or_else(|| "none".to_string(), |c| c.to_string());
                *codes.entry(key).or_default() += 1;
                closes.push(json!([code, at]));
            }
            Ok(Ok(End::Echoed)) => echoed += 1,
            Ok(Ok(End::NoEcho(e))) => {
                no_echo += 1;
                first_error.get_or_insert(e);
            }
            _ => no_echo += 1,
        }
    }
    Ok(json!({
        "mode": "idle", "asked": p.connections, "opened": p.connections as u64 - open_errors,
        "open_errors": open_errors, "open_at_check": checked, "echoed": echoed,
        "no_echo": no_echo, "close_codes": codes, "closes": closes,
        "first_error": first_error,
    }))
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Watches one idle connection until it closes or the check is asked for.
async fn watch_one(mut conn: Conn, mut buf: Vec<u8>, mut check: watch::Receiver<bool>) -> End {
    loop {
        tokio::select! {
            frame = load::read_frame(&mut conn, &mut buf) => {
                let Ok((h, payload)) = frame else {
                    return End::Closed(None, now_ms());
                };
                match h.opcode() {
                    wire::OP_CLOSE => {
                        let at = now_ms();
                        let code = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                        let reply = wire::frame(wire::OP_CLOSE, &payload[..payload.len().min(2)], true);
                        let _ = timeout(Duration::from_secs(1), conn.write_all(&reply)).await;
                        return End::Closed(code, at);
                    }
                    wire::OP_PING => {
                        let pong = wire::frame(wire::OP_PONG, &payload, true);
                        if !matches!(timeout(Duration::from_secs(5), conn.write_all(&pong)).await, Ok(Ok(()))) {
                            return End::Closed(None, now_ms());
                        }
                    }
                    _ => {}
                }
            }
            _ = check.changed() => break,
        }
    }
    let end = match timeout(CHECK, tries::echo_once(&mut conn, &mut buf)).await {
        Ok(Ok(())) => End::Echoed,
        Ok(Err(e)) => End::NoEcho(format!("{e:#}")),
        Err(_) => End::NoEcho("no echo within 10 s".into()),
    };
    let close = wire::frame(wire::OP_CLOSE, &1000u16.to_be_bytes(), true);
    let _ = timeout(Duration::from_secs(1), conn.write_all(&close)).await;
    end
}
