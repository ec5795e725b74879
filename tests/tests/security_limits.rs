//! Limits and client addresses on a real wsgate: per-IP connections, handshake rate,
//! request-head size, slowloris, PROXY protocol v2 and trusted X-Forwarded-For.

mod security_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use security_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{IO_TIMEOUT, close_ws};
use wsgate_tests::e2e;
use wsgate_tests::wait::{SETTLE_TIMEOUT, until, within};
use wsgate_tests::wsgate::{Wsgate, routes};

async fn connect(addr: SocketAddr) -> TcpStream {
    within(IO_TIMEOUT, "TCP connect", TcpStream::connect(addr))
        .await
        .expect("connect")
}

fn with_proxy_config(config: &str, route: String) -> String {
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata:\n  name: proxy\nspec:\n{config}---\n{route}"
    )
}

#[e2e]
async fn connections_per_ip_are_capped_and_released() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        "  limits:\n    maxConnectionsPerIP: 2\n",
    ))
    .await;
    gw.wait_ready().await;
    let url = gw.ws_url("/chat");
    let (mut a, _) = ws_with(&url, &[]).await.expect("first");
    let (_b, _) = ws_with(&url, &[]).await.expect("second");
    let (status, body) = refused(&url, &[]).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too many connections"), "{body}");
    close_ws(&mut a).await;
    // The slot is free once wsgate has seen the close; until then a refusal is right.
    until(
        || "a closed connection frees its slot".to_string(),
        || async { ws_with(&url, &[]).await.is_ok() },
    )
    .await;
    assert!(
        gw.metric(
            "wsgate_limit_refusals_total{namespace=\"default\",reason=\"connections_per_ip\""
        )
        .await
            >= 1.0
    );
}

#[e2e]
async fn handshakes_per_second_are_a_token_bucket() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        "  limits:\n    handshakesPerSecondPerIP: 1\n    handshakeBurst: 3\n",
    ))
    .await;
    gw.wait_ready().await;
    let url = gw.ws_url("/chat");
    for i in 0..3 {
        ws_with(&url, &[])
            .await
            .unwrap_or_else(|e| panic!("burst {i}: {e:?}"));
    }
    let (status, _) = refused(&url, &[]).await;
    assert_eq!(status, 429);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ws_with(&url, &[])
        .await
        .expect("a token refilled after a second");
}

#[e2e]
async fn a_slowloris_client_gets_408_and_delays_nobody() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&with_proxy_config(
        "  limits:\n    headerReadTimeout: 2s\n",
        routes("chat", &[backend.addr], ""),
    ))
    .await;
    gw.wait_ready().await;
    let addr = gw.http;
    let (first_byte, first_byte_sent) = tokio::sync::oneshot::channel();
    let slow = tokio::spawn(async move {
        let (mut r, mut w) = connect(addr).await.into_split();
        let started = Instant::now();
        // One header byte per second, for far longer than the deadline.
        let writer = tokio::spawn(async move {
            let mut first_byte = Some(first_byte);
            for b in b"GET /chat HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaa" {
                if w.write_all(&[*b]).await.is_err() {
                    break;
                }
                if let Some(tx) = first_byte.take() {
                    let _ = tx.send(());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut answer = String::new();
        let _ = tokio::time::timeout(SETTLE_TIMEOUT, r.read_to_string(&mut answer)).await;
        let took = started.elapsed();
        writer.abort();
        (answer, took)
    });
    within(IO_TIMEOUT, "the slow client's first byte", first_byte_sent)
        .await
        .expect("slow client started");
    // A normal client handshakes and echoes while the slow one is still being read.
    let (mut ws, _) = ws_with(&gw.ws_url("/chat"), &[])
        .await
        .expect("normal handshake");
    echo(&mut ws, "not delayed").await;
    assert!(
        !slow.is_finished(),
        "the normal client had to wait for the slow one to be cut off"
    );
    let (answer, took) = slow.await.expect("slow client");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    // 408 means wsgate cut it off (the writer would have kept dripping for ~45 s), and never
    // before the 2 s deadline.
    assert!(
        took >= Duration::from_secs(2),
        "cut off after {took:?}, before the 2s deadline"
    );
    assert_eq!(gw.metric("wsgate_header_timeouts_total").await, 1.0);
}

#[e2e]
async fn oversized_request_heads_get_431() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&with_proxy_config(
        "  limits:\n    maxRequestHeadBytes: 4096\n    maxRequestHeaders: 20\n",
        routes("chat", &[backend.addr], ""),
    ))
    .await;
    gw.wait_ready().await;
    let big = "x".repeat(8000);
    let (status, _) = refused(&gw.ws_url("/chat"), &[("X-Big", &big)]).await;
    assert_eq!(status, 431);
    let names: Vec<String> = (0..30).map(|i| format!("X-H{i}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let (status, _) = refused(&gw.ws_url("/chat"), &many).await;
    assert_eq!(status, 431, "too many header fields");
    assert_eq!(backend.handshakes(), 0);
}

#[e2e]
async fn a_proxy_protocol_v2_header_sets_the_client_address() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&with_proxy_config(
        "  listen:\n    proxyProtocol: true\n",
        routes(
            "chat",
            &[backend.addr],
            "  limits:\n    maxConnectionsPerIP: 1\n",
        ),
    ))
    .await;
    gw.wait_ready().await;
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.extend_from_slice(&[
        0x21, 0x11, 0, 12, 198, 51, 100, 23, 10, 0, 0, 1, 0xC3, 0x50, 0, 80,
    ]);
    let mut tcp = connect(gw.http).await;
    tcp.write_all(&header).await.expect("proxy header");
    let head = raw_handshake(&mut tcp, "/chat", &[("X-Forwarded-For", "6.6.6.6")]).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let (_, h) = last_handshake(&backend);
    assert_eq!(h["x-real-ip"], "198.51.100.23");
    assert_eq!(
        h["x-forwarded-for"], "198.51.100.23",
        "the PROXY source replaces what the untrusted client claimed"
    );

    // The per-IP limit counts the PROXY source, not the balancer's address.
    let mut again = connect(gw.http).await;
    again.write_all(&header).await.expect("proxy header");
    let head = raw_handshake(&mut again, "/chat", &[]).await;
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");

    let mut bare = connect(gw.http).await;
    let head = raw_handshake(&mut bare, "/chat", &[]).await;
    assert!(
        head.is_empty(),
        "no PROXY header: the connection is dropped, got {head}"
    );
}

#[e2e]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // Trusted: the loopback peer is a proxy, so the address it forwards is the client.
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&with_proxy_config(
        "  trustedProxies: [\"127.0.0.0/8\"]\n",
        routes("chat", &[backend.addr], ""),
    ))
    .await;
    gw.wait_ready().await;
    ws_with(&gw.ws_url("/chat"), &[("X-Forwarded-For", "203.0.113.50")])
        .await
        .expect("ws");
    let (_, h) = last_handshake(&backend);
    assert_eq!(h["x-real-ip"], "203.0.113.50");
    assert_eq!(h["x-forwarded-for"], "203.0.113.50, 127.0.0.1");

    // Untrusted (another network is trusted): the header is history, never the client, and a
    // client cannot dodge its per-IP limit by making up addresses.
    let backend = Backend::start("b2").await;
    let gw = Wsgate::launch(&with_proxy_config(
        "  trustedProxies: [\"10.0.0.0/8\"]\n",
        routes(
            "chat",
            &[backend.addr],
            "  limits:\n    maxConnectionsPerIP: 1\n",
        ),
    ))
    .await;
    gw.wait_ready().await;
    let (_held, _) = ws_with(&gw.ws_url("/chat"), &[("X-Forwarded-For", "203.0.113.50")])
        .await
        .expect("ws");
    let (_, h) = last_handshake(&backend);
    assert_eq!(
        h["x-real-ip"], "127.0.0.1",
        "the spoofed address is not the client"
    );
    assert_eq!(
        h["x-forwarded-for"], "127.0.0.1",
        "an untrusted peer's history is replaced"
    );
    let (status, body) =
        refused(&gw.ws_url("/chat"), &[("X-Forwarded-For", "198.51.100.77")]).await;
    assert_eq!(
        status, 429,
        "counted as 127.0.0.1, whatever it claims: {body}"
    );
    assert_eq!(backend.handshakes(), 1);
}
