//! The two load shapes: ping-pong with a window of messages in flight on long-lived
//! connections, and new connections per second. Both run on one thread (a `LocalSet`), write
//! pre-masked frames and parse echoes in place, so the generator costs little next to the
//! proxy it measures.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::dial::{Conn, Target};
use crate::{procstat, wire};

/// Shared by every connection task of a run.
struct Run {
    measuring: Cell<bool>,
    stop: Cell<bool>,
    /// Echoes (or handshakes) completed while measuring.
    done: Cell<u64>,
    /// Echoes (or handshakes) completed in the whole run, warm-up included.
    total: Cell<u64>,
    errors: Cell<u64>,
    first_error: RefCell<Option<String>>,
    latency_ns: RefCell<Histogram<u64>>,
}

impl Run {
    fn new() -> anyhow::Result<Rc<Run>> {
        Ok(Rc::new(Run {
            measuring: Cell::new(false),
            stop: Cell::new(false),
            done: Cell::new(0),
            total: Cell::new(0),
            errors: Cell::new(0),
            first_error: RefCell::new(None),
            latency_ns: RefCell::new(Histogram::new_with_bounds(1, 60_000_000_000, 3)?),
        }))
    }

    fn complete(&self, latency: Duration) {
        self.total.set(self.total.get() + 1);
        if self.measuring.get() {
            self.done.set(self.done.get() + 1);
            let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
            let _ = self.latency_ns.borrow_mut().record(ns);
        }
    }

    fn error(&self, e: anyhow::Error) {
        self.errors.set(self.errors.get() + 1);
        self.first_error
            .borrow_mut()
            .get_or_insert_with(|| format!("{e:#}"));
    }

    /// Warm-up, then the measured window (sampling CPU around it), then stop.
    async fn measure(
        &self,
        warmup: Duration,
        duration: Duration,
        pids: &[u32],
    ) -> serde_json::Value {
        tokio::time::sleep(warmup).await;
        let before = procstat::sample(pids);
        let started = Instant::now();
        self.measuring.set(true);
        tokio::time::sleep(duration).await;
        self.measuring.set(false);
        let secs = started.elapsed().as_secs_f64();
        let cpu = procstat::between(&before, &procstat::sample(pids));
        self.stop.set(true);
        let h = self.latency_ns.borrow();
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        json!({
            "seconds": secs, "done": self.done.get(), "per_sec": self.done.get() as f64 / secs,
            "p50_us": us(0.5), "p99_us": us(0.99), "max_us": h.max() as f64 / 1000.0,
            "cpu": cpu,
        })
    }

    fn finish(&self, mut out: serde_json::Value) -> serde_json::Value {
        out["total"] = self.total.get().into();
        out["errors"] = self.errors.get().into();
        if let Some(e) = self.first_error.borrow().as_ref() {
            out["first_error"] = e.clone().into();
        }
        out
    }
}

/// Settings of a ping-pong run.
pub struct Pingpong {
    pub targets: Vec<Target>,
    pub connections: usize,
    pub window: usize,
    /// Echoes per second over all connections (window 1, paced); `None`: as fast as echoes
    /// come back.
    pub rate: Option<f64>,
    pub size: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub pids: Vec<u32>,
}

/// Opens the connections (spread over `targets`), keeps `window` binary messages in flight
/// on each, and reports echoes per second and round-trip latency.
pub async fn pingpong(p: Pingpong) -> anyhow::Result<serde_json::Value> {
    let mut conns = Vec::with_capacity(p.connections);
    for i in 0..p.connections {
        let t = &p.targets[i % p.targets.len()];
        conns.push(t.open(i).await.with_context(|| format!("connection {i}"))?);
    }
    let run = Run::new()?;
    let frame = wire::frame(wire::OP_BINARY, &vec![b'x'; p.size], true);
    let frames: Rc<[u8]> = frame.repeat(p.window).into();
    let mut tasks = Vec::new();
    let n = conns.len();
    let started = tokio::time::Instant::now();
    for (i, (conn, early)) in conns.into_iter().enumerate() {
        let (run, frames) = (run.clone(), frames.clone());
        let (window, len) = (p.window, frame.len());
        // Paced: each connection sends every n/rate seconds, the connections staggered.
        let pace = p.rate.map(|r| {
            let every = Duration::from_secs_f64(n as f64 / r);
            (started + every.mul_f64(i as f64 / n as f64), every)
        });
        tasks.push(tokio::task::spawn_local(async move {
            if let Err(e) = echo_loop(conn, early, &run, &frames, len, window, pace).await {
                run.error(e);
            }
        }));
    }
    let out = run.measure(p.warmup, p.duration, &p.pids).await;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    let mut out = run.finish(out);
    out["mode"] = "pingpong".into();
    out["connections"] = p.connections.into();
    out["window"] = p.window.into();
    out["rate"] = p.rate.into();
    out["size"] = p.size.into();
    Ok(out)
}

/// One connection's loop: top the window up with pre-masked frames in one write, read, count
/// each echoed frame, until the run stops and the window has drained.
async fn echo_loop(
    mut conn: Conn,
    mut buf: Vec<u8>,
    run: &Run,
    frames: &[u8],
    frame_len: usize,
    window: usize,
    mut pace: Option<(tokio::time::Instant, Duration)>,
) -> anyhow::Result<()> {
    let mut sent: VecDeque<Instant> = VecDeque::with_capacity(window);
    let mut have = buf.len();
    buf.resize(16 * 1024, 0);
    loop {
        let room = window - sent.len();
        if room > 0 && !run.stop.get() {
            if let Some((next, every)) = pace.as_mut() {
                tokio::time::sleep_until(*next).await;
                // Behind schedule (a slow echo): carry on from now rather than burst.
                *next = (*next + *every).max(tokio::time::Instant::now());
            }
            conn.write_all(&frames[..room * frame_len]).await?;
            conn.flush().await?;
            let now = Instant::now();
            sent.extend(std::iter::repeat_n(now, room));
        }
        if sent.is_empty() {
            let close = wire::frame(wire::OP_CLOSE, &1000u16.to_be_bytes(), true);
            let _ = conn.write_all(&close).await;
            return Ok(());
        }
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = conn.read(&mut buf[have..]).await?;
        if n == 0 {
            bail!("connection closed with {} messages in flight", sent.len());
        }
        have += n;
        let now = Instant::now();
        let mut at = 0;
        while let Some(h) = wire::parse_header(&buf[at..have]) {
            if at + h.total() > have {
                break;
            }
            at += h.total();
            match h.opcode() {
                wire::OP_BINARY | wire::OP_TEXT => {
                    let t0 = sent.pop_front().context("an echo nobody asked for")?;
                    run.complete(now - t0);
                }
                wire::OP_PING | wire::OP_PONG => {}
                op => bail!("unexpected frame opcode {op}"),
            }
        }
        buf.copy_within(at..have, 0);
        have -= at;
    }
}

/// Settings of a new-connections run.
pub struct Handshakes {
    pub targets: Vec<Target>,
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub pids: Vec<u32>,
}

/// `concurrency` loops of: connect (TLS if wss), upgrade, one echo, close handshake, until
/// the server closes TCP. Reports completed connections per second.
pub async fn handshakes(h: Handshakes) -> anyhow::Result<serde_json::Value> {
    let run = Run::new()?;
    let targets: Rc<[Target]> = h.targets.into();
    let mut tasks = Vec::new();
    for w in 0..h.concurrency {
        let (run, targets, step) = (run.clone(), targets.clone(), h.concurrency);
        tasks.push(tokio::task::spawn_local(async move {
            let mut i = w;
            while !run.stop.get() {
                let t0 = Instant::now();
                let target = &targets[i % targets.len()];
                match tokio::time::timeout(Duration::from_secs(10), one_connection(target, i)).await
                {
                    Ok(Ok(())) => run.complete(t0.elapsed()),
                    Ok(Err(e)) => run.error(e),
                    Err(_) => run.error(anyhow::anyhow!("connection took over 10 s")),
                }
                i += step;
            }
        }));
    }
    let out = run.measure(h.warmup, h.duration, &h.pids).await;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(11), t).await;
    }
    let mut out = run.finish(out);
    out["mode"] = "handshakes".into();
    out["concurrency"] = h.concurrency.into();
    Ok(out)
}

async fn one_connection(target: &Target, i: usize) -> anyhow::Result<()> {
    let (mut conn, mut buf) = target.open(i).await?;
    conn.write_all(&wire::frame(wire::OP_TEXT, b"hi", true))
        .await?;
    conn.flush().await?;
    let (echo, _) = read_frame(&mut conn, &mut buf).await?;
    if echo.opcode() != wire::OP_TEXT {
        bail!("expected the echo, got opcode {}", echo.opcode());
    }
    conn.write_all(&wire::frame(wire::OP_CLOSE, &1000u16.to_be_bytes(), true))
        .await?;
    conn.flush().await?;
    let (close, _) = read_frame(&mut conn, &mut buf).await?;
    if close.opcode() != wire::OP_CLOSE {
        bail!("expected a close frame, got opcode {}", close.opcode());
    }
    // The server closes TCP first (RFC 6455 7.1.1); wait for it. TLS peers may skip
    // close_notify, which is not an error here.
    let mut rest = [0u8; 256];
    while matches!(conn.read(&mut rest).await, Ok(n) if n > 0) {}
    Ok(())
}

/// Reads one whole frame, consuming it from `buf`; returns its header and payload.
pub async fn read_frame(
    conn: &mut Conn,
    buf: &mut Vec<u8>,
) -> anyhow::Result<(wire::Header, Vec<u8>)> {
    loop {
        if let Some(h) = wire::parse_header(buf)
            && buf.len() >= h.total()
        {
            let payload = buf[h.len..h.total()].to_vec();
            buf.drain(..h.total());
            return Ok((h, payload));
        }
        if conn.read_buf(buf).await? == 0 {
            bail!("connection closed before a whole frame arrived");
        }
    }
}
