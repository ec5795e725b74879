//! wsbench: a small WebSocket load tool for wsgate's benchmarks.
//!
//! - `wsbench pingpong URL -c 100 -d 10s -s 64`: each connection sends a message and waits for
//!   its echo, again and again; prints one JSON line with round trips/s and latency percentiles.
//! - `wsbench handshakes URL -c 20 -d 5s`: connect, upgrade, one echo, close, repeatedly.
//! - `wsbench hold URL -c 2000 -d 10s`: opens idle connections, prints `ready`, holds them.
//! - `wsbench echo URL MESSAGE`: one round trip, prints the reply (used by the demo).
//!
//! Clients spread over 127.0.0.2.. source addresses so ephemeral ports never run out.
//! `wss://` URLs need `--ca FILE` (the CA that signed the server's certificate); TLS session
//! resumption is off, so every connection costs the server a full handshake.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Parser)]
#[command(about = "WebSocket load tool for wsgate benchmarks")]
struct Cli {
    /// PEM CA bundle to trust for `wss://` URLs.
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ping-pong round trips on long-lived connections.
    Pingpong {
        url: String,
        #[arg(short, long, default_value_t = 100)]
        connections: usize,
        #[arg(short, long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
        #[arg(short, long, default_value_t = 64)]
        size: usize,
        #[arg(long, default_value = "1s", value_parser = parse_duration)]
        warmup: Duration,
    },
    /// New connections per second: connect, upgrade, one echo, close.
    Handshakes {
        url: String,
        #[arg(short, long, default_value_t = 20)]
        concurrency: usize,
        #[arg(short, long, default_value = "5s", value_parser = parse_duration)]
        duration: Duration,
    },
    /// Open idle connections and hold them.
    Hold {
        url: String,
        #[arg(short, long, default_value_t = 1000)]
        connections: usize,
        #[arg(short, long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
    },
    /// One round trip; prints the reply.
    Echo { url: String, message: String },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, mult) = if let Some(v) = s.strip_suffix("ms") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else {
        (s, 1.0)
    };
    num.parse::<f64>()
        .map(|n| Duration::from_secs_f64(n * mult))
        .map_err(|e| e.to_string())
}

/// A client stream: plain TCP or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Ws = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

/// TLS client for `wss://` URLs, set from `--ca`.
static TLS: OnceLock<tokio_rustls::TlsConnector> = OnceLock::new();

fn tls_connector(ca: &std::path::Path) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Every new connection is a new, full TLS handshake.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Connects from source address 127.0.0.(2 + i % 250).
async fn connect(url: &str, i: usize) -> anyhow::Result<Ws> {
    let req = url.into_client_request()?;
    let host = req.uri().host().context("url host")?.to_string();
    let wss = req.uri().scheme_str() == Some("wss");
    let port = req.uri().port_u16().unwrap_or(if wss { 443 } else { 80 });
    // `localhost` stands for 127.0.0.1 so that wss URLs can carry a name for SNI.
    let ip = if host == "localhost" {
        "127.0.0.1"
    } else {
        host.as_str()
    };
    let target: SocketAddr = format!("{ip}:{port}")
        .parse()
        .context("wsbench needs an ip:port or localhost:port url")?;
    let socket = TcpSocket::new_v4()?;
    let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 250) as u8));
    socket.bind(SocketAddr::new(src, 0))?;
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    let io: Box<dyn Io> = if wss {
        let tls = TLS.get().context("wss:// needs --ca FILE")?;
        let name = rustls::pki_types::ServerName::try_from(host)?;
        Box::new(tls.connect(name, stream).await?)
    } else {
        Box::new(stream)
    };
    let (ws, _) = tokio_tungstenite::client_async(req, io).await?;
    Ok(ws)
}

async fn round_trip(ws: &mut Ws, msg: Message) -> anyhow::Result<()> {
    ws.send(msg).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(_) | Message::Text(_))) => return Ok(()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => bail!("unexpected {other:?}"),
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection closed"),
        }
    }
}

async fn pingpong(
    url: String,
    n: usize,
    duration: Duration,
    size: usize,
    warmup: Duration,
) -> anyhow::Result<()> {
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        conns.push(
            connect(&url, i)
                .await
                .with_context(|| format!("connection {i}"))?,
        );
    }
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let payload = bytes::Bytes::from(vec![b'x'; size]);
    let mut tasks = Vec::new();
    for mut ws in conns {
        let (measuring, stop, errors, payload) = (
            measuring.clone(),
            stop.clone(),
            errors.clone(),
            payload.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                if round_trip(&mut ws, Message::Binary(payload.clone()))
                    .await
                    .is_err()
                {
                    errors.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                if measuring.load(Ordering::Relaxed) {
                    let _ = hist.record(t0.elapsed().as_micros().max(1) as u64);
                }
            }
            let _ = ws.close(None).await;
            hist
        }));
    }
    tokio::time::sleep(warmup).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for t in tasks {
        all.add(t.await?)?;
    }
    let trips = all.len();
    println!(
        "{}",
        serde_json::json!({
            "mode": "pingpong", "connections": n, "size": size, "seconds": elapsed,
            "round_trips": trips, "round_trips_per_sec": trips as f64 / elapsed,
            "p50_us": all.value_at_quantile(0.5), "p99_us": all.value_at_quantile(0.99),
            "max_us": all.max(), "errors": errors.load(Ordering::Relaxed),
        })
    );
    Ok(())
}

async fn handshakes(url: String, concurrency: usize, duration: Duration) -> anyhow::Result<()> {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (url, done, errors) = (url.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while Instant::now() < deadline {
                let ok = async {
                    let mut ws = connect(&url, i).await?;
                    round_trip(&mut ws, Message::text("hi")).await?;
                    ws.close(None).await?;
                    anyhow::Ok(())
                }
                .await;
                match ok {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
                i += concurrency;
            }
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({"mode": "handshakes", "concurrency": concurrency, "seconds": secs,
            "handshakes": n, "handshakes_per_sec": n as f64 / secs, "errors": errors.load(Ordering::Relaxed)})
    );
    Ok(())
}

async fn hold(url: String, n: usize, duration: Duration) -> anyhow::Result<()> {
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        conns.push(
            connect(&url, i)
                .await
                .with_context(|| format!("connection {i}"))?,
        );
    }
    println!("ready {n}");
    tokio::time::sleep(duration).await;
    for mut ws in conns {
        let _ = ws.close(None).await;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(ca) = &cli.ca {
        let _ = TLS.set(tls_connector(ca)?);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.cmd {
            Cmd::Pingpong {
                url,
                connections,
                duration,
                size,
                warmup,
            } => pingpong(url, connections, duration, size, warmup).await,
            Cmd::Handshakes {
                url,
                concurrency,
                duration,
            } => handshakes(url, concurrency, duration).await,
            Cmd::Hold {
                url,
                connections,
                duration,
            } => hold(url, connections, duration).await,
            Cmd::Echo { url, message } => {
                let mut ws = connect(&url, 0).await?;
                ws.send(Message::text(message)).await?;
                match ws.next().await {
                    Some(Ok(Message::Text(t))) => println!("{t}"),
                    other => bail!("no echo: {other:?}"),
                }
                ws.close(None).await?;
                Ok(())
            }
        }
    })
}
