//! What the tunnel does on its own: size limits, idle timeout, keepalive pings.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::ws_connect;
use wsgate_tests::wsgate::{Wsgate, routes};

/// Reads until a close frame arrives; returns its code and when it came.
async fn next_close(
    ws: &mut wsgate_tests::client::Ws,
    limit: Duration,
) -> (Option<CloseCode>, Instant) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("no close frame within {limit:?}"),
            Ok(Some(Ok(Message::Close(frame)))) => return (frame.map(|f| f.code), Instant::now()),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("connection ended without a close frame: {other:?}"),
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

#[tokio::test]
async fn a_message_over_the_limit_closes_both_sides_with_1009() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::start(&routes(
        "small",
        &[backend.addr],
        "  limits: {maxMessageBytes: 1024}\n",
    ));
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/")).await.expect("connect");
    ws.send(Message::binary(vec![7u8; 1000]))
        .await
        .expect("send");
    assert!(matches!(ws.next().await, Some(Ok(Message::Binary(b))) if b.len() == 1000));
    ws.send(Message::binary(vec![7u8; 2000]))
        .await
        .expect("send");
    let (code, _) = next_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(code, Some(CloseCode::Size));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        backend_closes(&backend),
        vec![CloseCode::Size],
        "backend told too"
    );
    let big_reached = backend
        .seen()
        .iter()
        .any(|s| matches!(s, Seen::Message(Message::Binary(b)) if b.len() == 2000));
    assert!(
        !big_reached,
        "the oversized message must not reach the backend"
    );
    while let Some(Ok(_)) = ws.next().await {}
    let closed = gw
        .wait_metric(
            "wsgate_connections_closed_total{reason=\"message_too_big\",route=\"default/small\"}",
            1.0,
        )
        .await;
    assert_eq!(closed, 1.0);
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_1001() {
    let backend = Backend::start("b").await;
    let extra = "  timeouts: {idle: 600ms}\n  keepalive: {pingInterval: 0s}\n";
    let gw = Wsgate::start(&routes("idle", &[backend.addr], extra));
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/")).await.expect("connect");
    // Traffic keeps it open past the idle timeout...
    for _ in 0..4 {
        ws.send(Message::text("x")).await.expect("send");
        assert!(matches!(ws.next().await, Some(Ok(Message::Text(_)))));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // ...silence closes it.
    let quiet = Instant::now();
    let (code, at) = next_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(code, Some(CloseCode::Away));
    assert!(at - quiet >= Duration::from_millis(300), "closed too early");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(backend_closes(&backend), vec![CloseCode::Away]);
}

#[tokio::test]
async fn keepalive_pings_reach_the_client_and_its_pongs_stay_at_wsgate() {
    let backend = Backend::start("b").await;
    let extra = "  keepalive: {pingInterval: 200ms, pongTimeout: 1s}\n";
    let gw = Wsgate::start(&routes("ka", &[backend.addr], extra));
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/")).await.expect("connect");
    let mut pings = 0;
    let end = tokio::time::Instant::now() + Duration::from_millis(1500);
    while let Ok(msg) = tokio::time::timeout_at(end, ws.next()).await {
        // tungstenite answers each ping with a pong as it reads.
        if let Some(Ok(Message::Ping(_))) = msg {
            pings += 1;
        }
    }
    assert!(pings >= 4, "expected pings every 200ms, got {pings}");
    ws.send(Message::text("still open")).await.expect("send");
    assert!(matches!(ws.next().await, Some(Ok(Message::Text(t))) if t.as_str() == "still open"));
    let pongs = backend
        .seen()
        .iter()
        .filter(|s| matches!(s, Seen::Message(Message::Pong(_))))
        .count();
    assert_eq!(
        pongs, 0,
        "pongs answering wsgate's pings must not reach the backend"
    );
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_disconnected() {
    let backend = Backend::start("b").await;
    let extra = "  keepalive: {pingInterval: 200ms, pongTimeout: 300ms}\n";
    let gw = Wsgate::start(&routes("dead", &[backend.addr], extra));
    gw.wait_ready().await;
    // A raw client that completes the handshake and then never answers anything.
    let mut tcp = TcpStream::connect(gw.http).await.expect("connect");
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("write");
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    let started = Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("wsgate kept a dead client for over 5s"),
        }
    }
    assert!(
        got.starts_with(b"HTTP/1.1 101"),
        "handshake: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let closed = gw
        .wait_metric(
            "wsgate_connections_closed_total{reason=\"keepalive_timeout\",route=\"default/dead\"}",
            1.0,
        )
        .await;
    assert_eq!(closed, 1.0);
}
