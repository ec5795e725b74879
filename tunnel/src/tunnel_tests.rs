//! The tunnel's timers on a paused clock: what happens when, without waiting for it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::{Drain, Keepalive, TunnelPolicy};
use crate::frame::{OP_PONG, apply_mask};

fn config(strict: bool) -> TunnelConfig<()> {
    TunnelConfig {
        policy: TunnelPolicy {
            max_message_bytes: 1 << 20,
            idle_timeout: None,
            idle_counts_control: false,
            keepalive: Some(Keepalive {
                interval: Duration::from_secs(1),
                pong_timeout: Duration::from_secs(1),
            }),
            drain: Drain {
                close_code: 1001,
                period: Duration::ZERO,
            },
            strict,
            extensions: false,
        },
        meter: (),
        drain: CancellationToken::new(),
        close_request: None,
        shutdown: CancellationToken::new(),
        shutdown_spread: Duration::ZERO,
    }
}

/// Starts a tunnel; returns the client's and the backend's ends and the tunnel's task.
fn start(
    strict: bool,
) -> (
    DuplexStream,
    DuplexStream,
    tokio::task::JoinHandle<TunnelSummary>,
) {
    let (client, client_end) = tokio::io::duplex(64 * 1024);
    let (backend, backend_end) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(run(client_end, backend_end, config(strict)));
    (client, backend, task)
}

async fn read_n(s: &mut DuplexStream, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b).await.expect("read");
    b
}

fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
    let key = [7, 7, 7, 7];
    let mut f = vec![b0, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    let at = f.len();
    f.extend_from_slice(payload);
    apply_mask(&mut f[at..], key);
    f
}

#[tokio::test(start_paused = true)]
async fn l12_keepalive_ping_never_waits_behind_a_long_frame_past_its_deadline() {
    let (mut client, mut backend, task) = start(true);
    // The backend starts a 1000-byte frame and sends only 10 bytes of it.
    let mut head = vec![0x82, 126];
    head.extend_from_slice(&1000u16.to_be_bytes());
    backend.write_all(&head).await.expect("write");
    backend.write_all(&[1u8; 10]).await.expect("write");
    assert_eq!(read_n(&mut client, 14).await[..4], head[..]);
    // Five pong timeouts pass while the frame is still on its way: the ping that fell due
    // waits for the frame's end, and its pong deadline has not started.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!task.is_finished());
    backend.write_all(&[2u8; 990]).await.expect("write");
    assert_eq!(read_n(&mut client, 990).await, vec![2u8; 990]);
    let ping = read_n(&mut client, 10).await;
    assert_eq!(ping[..2], [0x89, 8], "the ping follows the frame, no close");
    client
        .write_all(&masked(0x80 | OP_PONG, &ping[2..]))
        .await
        .expect("pong");
    client.write_all(&masked(0x81, b"hi")).await.expect("text");
    let got = read_n(&mut backend, 8).await;
    assert_eq!(
        got[0], 0x81,
        "the backend got the text first, no close: {got:?}"
    );
    assert!(!task.is_finished());
}

#[tokio::test(start_paused = true)]
async fn l12_strict_tunnel_closes_1002_on_an_unmasked_client_frame() {
    let (mut client, mut backend, task) = start(true);
    client
        .write_all(&[0x81, 2, b'h', b'i'])
        .await
        .expect("write");
    let close = read_n(&mut client, 4).await;
    assert_eq!(
        (close[0], &close[2..]),
        (0x88, &[0x03, 0xEA][..]),
        "1002: {close:?}"
    );
    let to_backend = read_n(&mut backend, 2).await;
    assert_eq!(
        to_backend[0], 0x88,
        "the backend gets a close, not the frame"
    );
    drop((client, backend));
    let summary = task.await.expect("tunnel");
    assert_eq!(summary.reason, CloseReason::ProtocolError);
}

#[tokio::test(start_paused = true)]
async fn l12_passthrough_tunnel_forwards_an_unmasked_client_frame() {
    let (mut client, mut backend, _task) = start(false);
    client
        .write_all(&[0x81, 2, b'h', b'i'])
        .await
        .expect("write");
    assert_eq!(read_n(&mut backend, 4).await, [0x81, 2, b'h', b'i']);
}

/// A tunnel whose close can be asked for alone, with `code`; returns the endpoint's drain
/// token and the request's token too.
fn start_movable(
    code: u16,
) -> (
    DuplexStream,
    DuplexStream,
    CancellationToken,
    CancellationToken,
    tokio::task::JoinHandle<TunnelSummary>,
) {
    let (client, client_end) = tokio::io::duplex(64 * 1024);
    let (backend, backend_end) = tokio::io::duplex(64 * 1024);
    let mut cfg = config(true);
    let drain = cfg.drain.clone();
    let token = drain.child_token();
    cfg.close_request = Some(crate::config::CloseRequest {
        token: token.clone(),
        code,
    });
    let task = tokio::spawn(run(client_end, backend_end, cfg));
    (client, backend, drain, token, task)
}

#[tokio::test(start_paused = true)]
async fn a_close_request_closes_at_once_with_its_code() {
    let (mut client, mut backend, _drain, token, task) = start_movable(1012);
    token.cancel();
    let close = read_n(&mut client, 4).await;
    assert_eq!((close[0], &close[2..4]), (0x88, &1012u16.to_be_bytes()[..]));
    let to_backend = read_n(&mut backend, 8).await;
    assert_eq!(to_backend[0], 0x88, "the backend gets the close too");
    drop((client, backend));
    let summary = task.await.expect("tunnel");
    assert_eq!(summary.reason, CloseReason::Rebalanced);
    assert_eq!(summary.close, Some((CloseSide::Wsgate, 1012)));
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_drain_still_drains_a_movable_tunnel() {
    let (mut client, backend, drain, _token, task) = start_movable(1012);
    drain.cancel();
    let close = read_n(&mut client, 4).await;
    assert_eq!(
        (close[0], &close[2..4]),
        (0x88, &1001u16.to_be_bytes()[..]),
        "the drain's code, not the rebalancing one"
    );
    drop((client, backend));
    let summary = task.await.expect("tunnel");
    assert_eq!(summary.reason, CloseReason::EndpointRemoved);
}
