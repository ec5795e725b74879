//! A fixed relay workload for instruction counts: `ROUNDS` echoes of a 64-byte message
//! through one tunnel over loopback TCP (client -> tunnel -> echo backend -> tunnel ->
//! client), on one thread. Run it under `valgrind --tool=callgrind` with two round counts:
//! the difference, divided by twice the difference in rounds, is the cost per relayed
//! message, start-up excluded (`bench/instructions.sh` does this).
//!
//!   cargo run --release -p wsgate-tunnel --example relay_workload -- 20000

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use wsgate_tunnel::{Drain, TunnelConfig, TunnelPolicy};

const SIZE: usize = 64;

async fn pair(listener: &TcpListener) -> std::io::Result<(TcpStream, TcpStream)> {
    let addr = listener.local_addr()?;
    let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (a, (b, _)) = (a?, b?);
    a.set_nodelay(true)?;
    b.set_nodelay(true)?;
    Ok((a, b))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let (mut client, client_side) = pair(&listener).await?;
    let (backend_side, mut backend) = pair(&listener).await?;
    let policy = TunnelPolicy {
        max_message_bytes: 1 << 20,
        idle_timeout: Some(Duration::from_secs(3600)),
        idle_counts_control: false,
        keepalive: None,
        drain: Drain {
            close_code: 1001,
            period: Duration::from_secs(1),
        },
        strict: true,
        extensions: false,
    };
    let cfg = TunnelConfig {
        policy,
        meter: (),
        drain: CancellationToken::new(),
        close_request: None,
        shutdown: CancellationToken::new(),
        shutdown_spread: Duration::from_secs(1),
    };
    let tunnel = tokio::spawn(wsgate_tunnel::run(client_side, backend_side, cfg));
    // The echo backend answers each masked 64-byte frame with an unmasked one.
    let echo = tokio::spawn(async move {
        let mut frame = [0u8; 2 + 4 + SIZE];
        let mut reply = [0u8; 2 + SIZE];
        reply[0] = 0x82;
        reply[1] = SIZE as u8;
        while backend.read_exact(&mut frame).await.is_ok() {
            if backend.write_all(&reply).await.is_err() {
                break;
            }
        }
    });
    let mut frame = vec![0x82, 0x80 | SIZE as u8, 1, 2, 3, 4];
    frame.extend_from_slice(&[7u8; SIZE]);
    let mut reply = [0u8; 2 + SIZE];
    for _ in 0..rounds {
        client.write_all(&frame).await?;
        client.read_exact(&mut reply).await?;
    }
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(10), tunnel).await;
    echo.abort();
    println!("{rounds} round trips, {} relayed messages", rounds * 2);
    Ok(())
}
