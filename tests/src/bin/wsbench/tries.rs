//! New connections that count their failures instead of stopping at the first: each try is
//! connect, upgrade, one echo, close, bounded in time; the handshake (TCP connect to the
//! `101`) is timed on its own.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::bail;
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

use crate::dial::{Conn, Target};
use crate::{load, wire};

/// Bound on each step of a try (open, echo, close).
const STEP: Duration = Duration::from_secs(10);

/// Sends one text message and waits for its echo, answering pings on the way.
pub async fn echo_once(conn: &mut Conn, buf: &mut Vec<u8>) -> anyhow::Result<()> {
    conn.write_all(&wire::frame(wire::OP_TEXT, b"check", true))
        .await?;
    conn.flush().await?;
    loop {
        let (h, payload) = load::read_frame(conn, buf).await?;
        match h.opcode() {
            wire::OP_TEXT if payload == b"check" => return Ok(()),
            wire::OP_PING => {
                conn.write_all(&wire::frame(wire::OP_PONG, &payload, true))
                    .await?
            }
            wire::OP_PONG => {}
            wire::OP_CLOSE => {
                let code = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                bail!("closed with {code:?} instead of the echo");
            }
            op => bail!("expected the echo, got opcode {op}"),
        }
    }
}

/// One try; returns the handshake time.
pub async fn try_one(target: &Target, i: usize) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let (mut conn, mut buf) = match timeout(STEP, target.open(i)).await {
        Ok(r) => r?,
        Err(_) => bail!("no 101 within 10 s"),
    };
    let handshake = t0.elapsed();
    match timeout(STEP, echo_once(&mut conn, &mut buf)).await {
        Ok(r) => r?,
        Err(_) => bail!("no echo within 10 s"),
    }
    let close = wire::frame(wire::OP_CLOSE, &1000u16.to_be_bytes(), true);
    let _ = timeout(STEP, async {
        conn.write_all(&close).await?;
        load::read_frame(&mut conn, &mut buf).await
    })
    .await;
    Ok(handshake)
}

/// Failures by message, and handshake times of the tries that worked.
pub struct Tally {
    pub ok: u64,
    pub failed: BTreeMap<String, u64>,
    pub handshake_us: Histogram<u64>,
}

impl Tally {
    pub fn new() -> anyhow::Result<Tally> {
        Ok(Tally {
            ok: 0,
            failed: BTreeMap::new(),
            handshake_us: Histogram::new_with_bounds(1, 120_000_000, 3)?,
        })
    }

    pub fn record(&mut self, r: anyhow::Result<Duration>) {
        match r {
            Ok(d) => {
                self.ok += 1;
                let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
                let _ = self.handshake_us.record(us);
            }
            Err(e) => {
                let key: String = format!("{e:#}").chars().take(120).collect();
                *self.failed.entry(key).or_default() += 1;
            }
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let h = &self.handshake_us;
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        json!({
            "ok": self.ok, "failed": self.failed.values().sum::<u64>(), "failures": self.failed,
            "handshake_p50_ms": ms(0.5), "handshake_p99_ms": ms(0.99),
            "handshake_max_ms": h.max() as f64 / 1000.0,
        })
    }
}

/// `count` tries, `concurrency` at a time (paced to `rate` per second in all when given),
/// spread over `targets` and source addresses from `first`.
pub async fn tries(
    targets: Vec<Target>,
    count: usize,
    concurrency: usize,
    rate: Option<f64>,
    first: usize,
) -> anyhow::Result<serde_json::Value> {
    let targets: Rc<[Target]> = targets.into();
    let started = tokio::time::Instant::now();
    let gap = rate.map(|r| Duration::from_secs_f64(1.0 / r.max(0.001)));
    let tally = Rc::new(std::cell::RefCell::new(Tally::new()?));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|w| {
            let (targets, tally, step) = (targets.clone(), tally.clone(), concurrency.max(1));
            tokio::task::spawn_local(async move {
                let mut i = w;
                while i < count {
                    if let Some(gap) = gap {
                        tokio::time::sleep_until(started + gap * i as u32).await;
                    }
                    let r = try_one(&targets[i % targets.len()], first + i).await;
                    tally.borrow_mut().record(r);
                    i += step;
                }
            })
        })
        .collect();
    for w in workers {
        w.await?;
    }
    let mut out = tally.borrow().json();
    out["mode"] = "tries".into();
    out["count"] = count.into();
    out["seconds"] = started.elapsed().as_secs_f64().into();
    Ok(out)
}
