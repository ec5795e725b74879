//! What the tunnel does on its own: size limits, idle timeout, keepalive pings.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{IO_TIMEOUT, Ws, drain, next_msg, next_within, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::wait::{SETTLE_TIMEOUT, until, within};
use wsgate_tests::wsgate::{Wsgate, routes};

/// Reads until a close frame arrives; returns its code and when it came.
async fn next_close(ws: &mut Ws) -> (Option<CloseCode>, Instant) {
    loop {
        match next_within(ws, SETTLE_TIMEOUT).await {
            Some(Ok(Message::Close(frame))) => return (frame.map(|f| f.code), Instant::now()),
            Some(Ok(_)) => continue,
            other => panic!("connection ended without a close frame: {other:?}"),
        }
    }
}

fn backend_closes(backend: &Backend) -> Vec<CloseCode> {
    backend
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Message(Message::Close(Some(f))) => Some(f.code),
            _ => None,
        })
        .collect()
}

/// Waits until the backend has received a close frame, then returns every close code it got.
async fn wait_backend_close(backend: &Backend) -> Vec<CloseCode> {
    until(
        || format!("the backend never got a close frame: {:?}", backend.seen()),
        || async { !backend_closes(backend).is_empty() },
    )
    .await;
    backend_closes(backend)
}

#[e2e]
async fn a_message_over_the_limit_closes_both_sides_with_1009() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes(
        "small",
        &[backend.addr],
        "  limits: {maxMessageBytes: 1024}\n",
    ))
    .await;
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/")).await.expect("connect");
    send_msg(&mut ws, Message::binary(vec![7u8; 1000])).await;
    assert!(matches!(next_msg(&mut ws).await, Message::Binary(b) if b.len() == 1000));
    send_msg(&mut ws, Message::binary(vec![7u8; 2000])).await;
    let (code, _) = next_close(&mut ws).await;
    assert_eq!(code, Some(CloseCode::Size));
    assert_eq!(
        wait_backend_close(&backend).await,
        vec![CloseCode::Size],
        "backend told too"
    );
    // The close came after the oversized message on the same connection: had wsgate let the
    // message through, the backend would have seen it first.
    let big_reached = backend
        .seen()
        .iter()
        .any(|s| matches!(s, Seen::Message(Message::Binary(b)) if b.len() == 2000));
    assert!(
        !big_reached,
        "the oversized message must not reach the backend"
    );
    drain(&mut ws).await;
    let closed = gw
        .wait_metric(
            "wsgate_connections_closed_total{code=\"1009\",namespace=\"default\",reason=\"message_too_big\",route=\"small\"}",
            1.0,
        )
        .await;
    assert_eq!(closed, 1.0);
}

#[e2e]
async fn an_idle_connection_is_closed_with_1001() {
    let backend = Backend::start("b").await;
    let idle = Duration::from_millis(1500);
    let extra = "  timeouts: {idle: 1500ms}\n  keepalive: {pingInterval: 0s}\n";
    let gw = Wsgate::launch(&routes("idle", &[backend.addr], extra)).await;
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/")).await.expect("connect");
    // Traffic keeps it open for twice the idle timeout (a pause shorter than the timeout
    // never closes it, however slow the machine)...
    let busy = Instant::now();
    let mut last_send = Instant::now();
    while busy.elapsed() < idle * 2 {
        last_send = Instant::now();
        send_msg(&mut ws, Message::text("x")).await;
        assert_eq!(next_msg(&mut ws).await, Message::text("x"), "still open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ...silence closes it, never before the timeout has passed since the last message.
    let (code, at) = next_close(&mut ws).await;
    assert_eq!(code, Some(CloseCode::Away));
    assert!(
        at - last_send >= idle,
        "closed {:?} after the last message, before the {idle:?} idle timeout",
        at - last_send
    );
    assert_eq!(wait_backend_close(&backend).await, vec![CloseCode::Away]);
}

#[e2e]
async fn keepalive_pings_reach_the_client_and_its_pongs_stay_at_wsgate() {
    let backend = Backend::start("b").await;
    let extra = "  keepalive: {pingInterval: 200ms, pongTimeout: 5s}\n";
    let gw = Wsgate::launch(&routes("ka", &[backend.addr], extra)).await;
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/")).await.expect("connect");
    // tungstenite answers each ping with a pong as it reads.
    let mut pings = 0;
    while pings < 4 {
        match next_within(&mut ws, IO_TIMEOUT).await {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(_)) => {}
            other => panic!("the connection ended after {pings} pings: {other:?}"),
        }
    }
    send_msg(&mut ws, Message::text("still open")).await;
    loop {
        match next_msg(&mut ws).await {
            Message::Ping(_) => continue,
            m => {
                assert_eq!(m, Message::text("still open"));
                break;
            }
        }
    }
    // The echo came back after the pongs went out on the same connection: any pong wsgate
    // forwarded would be at the backend by now.
    let pongs = backend
        .seen()
        .iter()
        .filter(|s| matches!(s, Seen::Message(Message::Pong(_))))
        .count();
    assert_eq!(
        pongs, 0,
        "pongs answering wsgate's pings must not reach the backend"
    );
    assert_eq!(
        gw.metric("wsgate_connections_closed_total{code=\"1001\",namespace=\"default\",reason=\"keepalive_timeout\"")
            .await,
        0.0,
        "answered pings keep the connection"
    );
}

#[e2e]
async fn a_client_that_never_answers_pings_is_disconnected() {
    let backend = Backend::start("b").await;
    let extra = "  keepalive: {pingInterval: 200ms, pongTimeout: 300ms}\n";
    let gw = Wsgate::launch(&routes("dead", &[backend.addr], extra)).await;
    gw.wait_ready().await;
    // A raw client that completes the handshake and then never answers anything.
    let mut tcp = within(IO_TIMEOUT, "connect", TcpStream::connect(gw.http))
        .await
        .expect("connect");
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("write");
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    let started = Instant::now();
    loop {
        match within(
            SETTLE_TIMEOUT,
            "wsgate cutting the dead client",
            tcp.read(&mut buf),
        )
        .await
        {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert!(
        got.starts_with(b"HTTP/1.1 101"),
        "handshake: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "cut after {:?}, before a ping interval plus the pong timeout",
        started.elapsed()
    );
    let closed = gw
        .wait_metric(
            "wsgate_connections_closed_total{code=\"1001\",namespace=\"default\",reason=\"keepalive_timeout\",route=\"dead\"}",
            1.0,
        )
        .await;
    assert_eq!(closed, 1.0);
}
