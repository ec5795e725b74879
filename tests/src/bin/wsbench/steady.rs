//! Steady load that survives failures: `connections` long-lived connections each send a
//! message at a fixed pace and wait for its echo; a connection that breaks is counted and
//! opened again. Alongside, `churn` new short connections per second (connect, upgrade, one
//! echo, close). Used for the soak and for killing a backend under load.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::bail;
use hdrhistogram::Histogram;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

use crate::dial::{Conn, Target};
use crate::tries::{Tally, try_one};
use crate::{load, wire};

/// Bound on an open and on each echo.
const STEP: Duration = Duration::from_secs(10);

/// Settings of a steady run.
pub struct Steady {
    pub targets: Vec<Target>,
    pub connections: usize,
    /// Messages per second over all connections.
    pub rate: f64,
    /// New short connections per second.
    pub churn: f64,
    pub size: usize,
    pub duration: Duration,
    pub first: usize,
}

#[derive(Default)]
struct Counts {
    echoed: Cell<u64>,
    /// Long-lived connections that broke (closed, failed to echo in time).
    broken: Cell<u64>,
    /// Opens of long-lived connections after the first (reconnects) that failed.
    reopen_failed: Cell<u64>,
    /// First opens that failed.
    open_failed: Cell<u64>,
    /// Failed opens by message.
    open_failures: RefCell<std::collections::BTreeMap<String, u64>>,
    reopened: Cell<u64>,
    first_break: RefCell<Option<String>>,
    latency_us: RefCell<Option<Histogram<u64>>>,
}

/// When a connection sends: first at `next`, then every `every`, until `end`.
struct Pace {
    next: tokio::time::Instant,
    every: Duration,
    end: tokio::time::Instant,
}

/// Runs the load for `duration`; one JSON object.
pub async fn steady(p: Steady) -> anyhow::Result<serde_json::Value> {
    let counts = Rc::new(Counts {
        latency_us: RefCell::new(Some(Histogram::new_with_bounds(1, 120_000_000, 3)?)),
        ..Counts::default()
    });
    let churn = Rc::new(RefCell::new(Tally::new()?));
    let targets: Rc<[Target]> = p.targets.into();
    let end = tokio::time::Instant::now() + p.duration;
    let frame: Rc<[u8]> = wire::frame(wire::OP_BINARY, &vec![b'x'; p.size], true).into();
    let every = Duration::from_secs_f64(p.connections as f64 / p.rate.max(0.001));
    let mut tasks = Vec::new();
    for i in 0..p.connections {
        let (targets, counts, frame) = (targets.clone(), counts.clone(), frame.clone());
        let next = tokio::time::Instant::now() + every.mul_f64(i as f64 / p.connections as f64);
        let (at, pace) = (p.first + i, Pace { next, every, end });
        tasks.push(tokio::task::spawn_local(async move {
            keep_one(&targets[i % targets.len()], at, &frame, pace, &counts).await;
        }));
    }
    if p.churn > 0.0 {
        let (targets, churn) = (targets.clone(), churn.clone());
        let gap = Duration::from_secs_f64(1.0 / p.churn);
        let first = p.first + p.connections;
        tasks.push(tokio::task::spawn_local(async move {
            let mut k = 0;
            let mut next = tokio::time::Instant::now();
            while next < end {
                tokio::time::sleep_until(next).await;
                let r = try_one(&targets[k % targets.len()], first + k).await;
                churn.borrow_mut().record(r);
                k += 1;
                next = (next + gap).max(tokio::time::Instant::now());
            }
        }));
    }
    for t in tasks {
        let _ = timeout(p.duration + 3 * STEP, t).await;
    }
    let Some(h) = counts.latency_us.borrow_mut().take() else {
        bail!("the latency histogram is read once");
    };
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(serde_json::json!({
        "mode": "steady", "connections": p.connections, "rate": p.rate,
        "seconds": p.duration.as_secs_f64(),
        "echoed": counts.echoed.get(), "broken": counts.broken.get(),
        "reopened": counts.reopened.get(), "reopen_failed": counts.reopen_failed.get(),
        "open_failed": counts.open_failed.get(), "open_failures": *counts.open_failures.borrow(),
        "first_break": *counts.first_break.borrow(),
        "echo_p50_ms": ms(0.5), "echo_p99_ms": ms(0.99), "echo_max_ms": h.max() as f64 / 1000.0,
        "churn": churn.borrow().json(),
    }))
}

/// Keeps one long-lived connection sending until `end`, opening it again when it breaks.
async fn keep_one(target: &Target, at: usize, frame: &[u8], pace: Pace, counts: &Counts) {
    let Pace {
        mut next,
        every,
        end,
    } = pace;
    let mut opened_before = false;
    while tokio::time::Instant::now() < end {
        let opened = timeout(STEP, target.open(at)).await;
        let (mut conn, mut buf) = match opened {
            Ok(Ok(c)) => c,
            other => {
                let failed = if opened_before {
                    &counts.reopen_failed
                } else {
                    &counts.open_failed
                };
                failed.set(failed.get() + 1);
                let why = match other {
                    Ok(Err(e)) => format!("{e:#}"),
                    _ => "no 101 within 10 s".into(),
                };
                *counts.open_failures.borrow_mut().entry(why).or_default() += 1;
                // Paced retry: a failing proxy is not hammered by a tight loop.
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if opened_before {
            counts.reopened.set(counts.reopened.get() + 1);
        }
        opened_before = true;
        loop {
            tokio::time::sleep_until(next).await;
            next = (next + every).max(tokio::time::Instant::now());
            if tokio::time::Instant::now() >= end {
                let close = wire::frame(wire::OP_CLOSE, &1000u16.to_be_bytes(), true);
                let _ = timeout(Duration::from_secs(1), conn.write_all(&close)).await;
                return;
            }
            let t0 = Instant::now();
            match timeout(STEP, echo(&mut conn, &mut buf, frame)).await {
                Ok(Ok(())) => {
                    counts.echoed.set(counts.echoed.get() + 1);
                    let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
                    if let Some(h) = counts.latency_us.borrow_mut().as_mut() {
                        let _ = h.record(us.max(1));
                    }
                }
                other => {
                    counts.broken.set(counts.broken.get() + 1);
                    let e = match other {
                        Ok(Err(e)) => format!("{e:#}"),
                        _ => "no echo within 10 s".into(),
                    };
                    counts.first_break.borrow_mut().get_or_insert(e);
                    break;
                }
            }
        }
    }
}

/// Sends `frame` (binary) and waits for its echo, answering pings.
async fn echo(conn: &mut Conn, buf: &mut Vec<u8>, frame: &[u8]) -> anyhow::Result<()> {
    conn.write_all(frame).await?;
    conn.flush().await?;
    loop {
        let (h, payload) = load::read_frame(conn, buf).await?;
        match h.opcode() {
            wire::OP_BINARY => return Ok(()),
            wire::OP_PING => {
                conn.write_all(&wire::frame(wire::OP_PONG, &payload, true))
                    .await?
            }
            wire::OP_PONG => {}
            wire::OP_CLOSE => {
                let code = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                bail!("closed with {code:?}");
            }
            op => bail!("expected the echo, got opcode {op}"),
        }
    }
}
