//! wsbench: wsgate's WebSocket load tool, light enough that the proxy under test is the
//! bottleneck. One thread; frames are masked once and sent many times; echoes are parsed in
//! place; latencies go to an HDR histogram.
//!
//! - `wsbench pingpong URL... -c 100 -w 1 -d 5s -s 64`: keeps `w` messages in flight on
//!   each connection; prints one JSON line (echoes/s, p50/p99, core and proxy CPU).
//!   `--rate R` paces the echoes to R per second in all instead (latency at a fixed load).
//! - `wsbench handshakes URL... -c 8 -d 5s`: connect, upgrade, one echo, close, repeatedly.
//! - `wsbench hold URL -c 3000`: opens idle connections, prints `ready N`, holds them.
//! - `wsbench serve 127.0.0.1:PORT`: a light echo server (the benchmark backend).
//! - `wsbench echo URL MESSAGE`: one round trip; prints the reply.
//!
//! Modes of `scripts/reliability.sh`, which count failures instead of stopping at the first:
//! - `wsbench idle URL -c 9000 --check-file F`: idle connections that record every close
//!   (code, time) and, once `F` exists, each send one message and wait for the echo.
//! - `wsbench tries URL... -n 2000 -c 8`: new connections (connect, upgrade, echo, close);
//!   failures and handshake-time percentiles.
//! - `wsbench steady URL... -c 300 --rate 300 --churn 20 -d 30m`: paced messages on
//!   long-lived connections, reopened when they break, plus new short connections per second.
//! - `wsbench slowloris 127.0.0.1:PORT -c 5000`: request heads that never finish.
//!
//! Connections spread over the URLs given and over source addresses 127.0.0.2.. so
//! ephemeral ports never run out. `wss://` needs `--ca FILE`; every TLS connection is a full
//! TLS 1.3 handshake (no resumption) on the key-exchange group `--kx`.

mod dial;
mod hold;
mod idle;
mod load;
mod procstat;
mod serve;
mod slowloris;
mod steady;
mod tries;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio::io::AsyncWriteExt;

use dial::{Kx, Target};

#[derive(Parser)]
#[command(about = "WebSocket load tool for wsgate benchmarks")]
struct Cli {
    /// PEM CA bundle to trust for `wss://` URLs.
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    /// TLS 1.3 key-exchange group the client offers.
    #[arg(long, global = true, value_enum, default_value_t = Kx::P256)]
    kx: Kx,
    /// Processes whose CPU time is reported for the measured window (the proxy).
    #[arg(long, global = true, value_delimiter = ',')]
    pids: Vec<u32>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Messages in flight on long-lived connections.
    Pingpong {
        #[arg(required = true)]
        urls: Vec<String>,
        #[arg(short, long, default_value_t = 100)]
        connections: usize,
        /// Messages in flight per connection.
        #[arg(short, long, default_value_t = 1)]
        window: usize,
        /// Paced: this many echoes per second over all connections (window 1).
        #[arg(long)]
        rate: Option<f64>,
        #[arg(short, long, default_value = "5s", value_parser = parse_duration)]
        duration: Duration,
        #[arg(short, long, default_value_t = 64)]
        size: usize,
        #[arg(long, default_value = "1s", value_parser = parse_duration)]
        warmup: Duration,
    },
    /// New connections per second: connect, upgrade, one echo, close.
    Handshakes {
        #[arg(required = true)]
        urls: Vec<String>,
        #[arg(short, long, default_value_t = 8)]
        concurrency: usize,
        #[arg(short, long, default_value = "5s", value_parser = parse_duration)]
        duration: Duration,
        #[arg(long, default_value = "500ms", value_parser = parse_duration)]
        warmup: Duration,
    },
    /// Open idle connections and hold them.
    Hold {
        url: String,
        #[arg(short, long, default_value_t = 1000)]
        connections: usize,
        /// Index of the first connection (picks its source address 127.0.0.x).
        #[arg(long, default_value_t = 0)]
        first: usize,
        #[arg(long, default_value_t = 32)]
        parallel: usize,
        #[arg(short, long, default_value = "600s", value_parser = parse_duration)]
        duration: Duration,
    },
    /// Idle connections that record their closes, then prove they still echo.
    Idle {
        url: String,
        #[arg(short, long, default_value_t = 1000)]
        connections: usize,
        #[arg(long, default_value_t = 0)]
        first: usize,
        #[arg(long, default_value_t = 32)]
        parallel: usize,
        /// Check the open connections once this file exists, then end.
        #[arg(long)]
        check_file: Option<PathBuf>,
        /// Longest run (it also ends once every connection has closed).
        #[arg(short, long, default_value = "600s", value_parser = parse_duration)]
        duration: Duration,
    },
    /// New connections, counting failures; handshake-time percentiles.
    Tries {
        #[arg(required = true)]
        urls: Vec<String>,
        #[arg(short = 'n', long, default_value_t = 1000)]
        count: usize,
        #[arg(short, long, default_value_t = 8)]
        concurrency: usize,
        /// Tries per second in all (paced); as fast as they complete when absent.
        #[arg(long)]
        rate: Option<f64>,
        #[arg(long, default_value_t = 0)]
        first: usize,
    },
    /// Paced messages on long-lived connections (reopened when broken), plus churn.
    Steady {
        #[arg(required = true)]
        urls: Vec<String>,
        #[arg(short, long, default_value_t = 300)]
        connections: usize,
        /// Messages per second over all connections.
        #[arg(long, default_value_t = 300.0)]
        rate: f64,
        /// New short connections per second.
        #[arg(long, default_value_t = 0.0)]
        churn: f64,
        #[arg(short, long, default_value_t = 64)]
        size: usize,
        #[arg(short, long, default_value = "60s", value_parser = parse_duration)]
        duration: Duration,
        #[arg(long, default_value_t = 0)]
        first: usize,
    },
    /// Request heads sent a line at a time and never finished.
    Slowloris {
        addr: SocketAddr,
        #[arg(short, long, default_value_t = 1000)]
        connections: usize,
        #[arg(long, default_value_t = 0)]
        first: usize,
        /// New connections per second while ramping up.
        #[arg(long, default_value_t = 1000.0)]
        ramp: f64,
        /// One more header line this often.
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        interval: Duration,
        #[arg(short, long, default_value = "60s", value_parser = parse_duration)]
        duration: Duration,
    },
    /// A light WebSocket echo server.
    Serve { addr: SocketAddr },
    /// One round trip; prints the reply.
    Echo { url: String, message: String },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, mult) = if let Some(v) = s.strip_suffix("ms") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60.0)
    } else if let Some(v) = s.strip_suffix('h') {
        (v, 3600.0)
    } else {
        (s, 1.0)
    };
    num.parse::<f64>()
        .map(|n| Duration::from_secs_f64(n * mult))
        .map_err(|e| e.to_string())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let tls = match &cli.ca {
        Some(ca) => Some(dial::tls_connector(ca, cli.kx)?),
        None => None,
    };
    let targets = |urls: &[String]| -> anyhow::Result<Vec<Target>> {
        urls.iter()
            .map(|u| Target::parse(u, tls.as_ref()))
            .collect()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        match cli.cmd {
            Cmd::Pingpong {
                urls,
                connections,
                window,
                rate,
                duration,
                size,
                warmup,
            } => {
                let p = load::Pingpong {
                    targets: targets(&urls)?,
                    connections,
                    window: if rate.is_some() { 1 } else { window.max(1) },
                    rate,
                    size,
                    warmup,
                    duration,
                    pids: cli.pids,
                };
                println!("{}", load::pingpong(p).await?);
            }
            Cmd::Handshakes {
                urls,
                concurrency,
                duration,
                warmup,
            } => {
                let h = load::Handshakes {
                    targets: targets(&urls)?,
                    concurrency,
                    warmup,
                    duration,
                    pids: cli.pids,
                };
                println!("{}", load::handshakes(h).await?);
            }
            Cmd::Hold {
                url,
                connections,
                first,
                parallel,
                duration,
            } => {
                let target = Target::parse(&url, tls.as_ref())?;
                hold::hold(target, connections, first, parallel.max(1), duration).await?;
            }
            Cmd::Idle {
                url,
                connections,
                first,
                parallel,
                check_file,
                duration,
            } => {
                let p = idle::Idle {
                    target: Target::parse(&url, tls.as_ref())?,
                    connections,
                    first,
                    parallel: parallel.max(1),
                    check_file,
                    duration,
                };
                println!("{}", idle::idle(p).await?);
            }
            Cmd::Tries {
                urls,
                count,
                concurrency,
                rate,
                first,
            } => println!(
                "{}",
                tries::tries(targets(&urls)?, count, concurrency, rate, first).await?
            ),
            Cmd::Steady {
                urls,
                connections,
                rate,
                churn,
                size,
                duration,
                first,
            } => {
                let p = steady::Steady {
                    targets: targets(&urls)?,
                    connections,
                    rate,
                    churn,
                    size,
                    duration,
                    first,
                };
                println!("{}", steady::steady(p).await?);
            }
            Cmd::Slowloris {
                addr,
                connections,
                first,
                ramp,
                interval,
                duration,
            } => {
                let out = slowloris::slowloris(addr, connections, first, ramp, interval, duration);
                println!("{}", out.await?);
            }
            Cmd::Serve { addr } => serve::serve(addr).await?,
            Cmd::Echo { url, message } => {
                echo(Target::parse(&url, tls.as_ref())?, &message).await?
            }
        }
        anyhow::Ok(())
    })
}

/// One text message there and back.
async fn echo(target: Target, message: &str) -> anyhow::Result<()> {
    let (mut conn, mut buf) = target.open(0).await?;
    conn.write_all(&wire::frame(wire::OP_TEXT, message.as_bytes(), true))
        .await?;
    conn.flush().await?;
    let wait = Duration::from_secs(10);
    loop {
        let (h, payload) = tokio::time::timeout(wait, load::read_frame(&mut conn, &mut buf))
            .await
            .context("no reply within 10 s")??;
        match h.opcode() {
            wire::OP_TEXT => {
                println!("{}", String::from_utf8_lossy(&payload));
                break;
            }
            wire::OP_PING | wire::OP_PONG => continue,
            op => bail!("no echo: frame opcode {op}"),
        }
    }
    conn.write_all(&wire::frame(wire::OP_CLOSE, &1000u16.to_be_bytes(), true))
        .await?;
    conn.flush().await?;
    Ok(())
}
