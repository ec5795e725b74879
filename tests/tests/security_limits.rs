//! Limits and client addresses on a real wsgate: per-IP connections, handshake rate,
//! request-head size, slowloris, PROXY protocol v2 and trusted X-Forwarded-For.

mod security_support;

use std::time::{Duration, Instant};

use security_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsgate_tests::backend::Backend;
use wsgate_tests::wsgate::{Wsgate, routes};

fn with_proxy_config(config: &str, route: String) -> String {
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata:\n  name: proxy\nspec:\n{config}---\n{route}"
    )
}

#[tokio::test]
async fn connections_per_ip_are_capped_and_released() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&routes(
        "chat",
        &[backend.addr],
        "  limits:\n    maxConnectionsPerIP: 2\n",
    ));
    gw.wait_ready().await;
    let url = gw.ws_url("/chat");
    let (mut a, _) = ws_with(&url, &[]).await.expect("first");
    let (_b, _) = ws_with(&url, &[]).await.expect("second");
    let (status, body) = refused(&url, &[]).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too many connections"), "{body}");
    a.close(None).await.expect("close");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if ws_with(&url, &[]).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a closed connection frees its slot"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gw.metric("wsgate_limit_refusals_total{reason=\"connections_per_ip\"")
            .await
            >= 1.0
    );
}

#[tokio::test]
async fn handshakes_per_second_are_a_token_bucket() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&routes(
        "chat",
        &[backend.addr],
        "  limits:\n    handshakesPerSecondPerIP: 1\n    handshakeBurst: 3\n",
    ));
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

#[tokio::test]
async fn a_slowloris_client_gets_408_and_delays_nobody() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&with_proxy_config(
        "  limits:\n    headerReadTimeout: 2s\n",
        routes("chat", &[backend.addr], ""),
    ));
    gw.wait_ready().await;
    let addr = gw.http;
    let slow = tokio::spawn(async move {
        let (mut r, mut w) = TcpStream::connect(addr)
            .await
            .expect("connect")
            .into_split();
        let started = Instant::now();
        // One header byte per second, for longer than the deadline.
        let writer = tokio::spawn(async move {
            for b in b"GET /chat HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaa" {
                if w.write_all(&[*b]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut answer = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(6), r.read_to_string(&mut answer)).await;
        let took = started.elapsed();
        writer.abort();
        (answer, took)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let (mut ws, _) = ws_with(&gw.ws_url("/chat"), &[])
        .await
        .expect("normal handshake");
    echo(&mut ws, "not delayed").await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );
    let (answer, took) = slow.await.expect("slow client");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        took < Duration::from_secs(4),
        "cut off at the 2s deadline, took {took:?}"
    );
}

#[tokio::test]
async fn oversized_request_heads_get_431() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&with_proxy_config(
        "  limits:\n    maxRequestHeadBytes: 4096\n    maxRequestHeaders: 20\n",
        routes("chat", &[backend.addr], ""),
    ));
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

#[tokio::test]
async fn a_proxy_protocol_v2_header_sets_the_client_address() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&with_proxy_config(
        "  listen:\n    proxyProtocol: true\n",
        routes(
            "chat",
            &[backend.addr],
            "  limits:\n    maxConnectionsPerIP: 1\n",
        ),
    ));
    gw.wait_ready().await;
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.extend_from_slice(&[
        0x21, 0x11, 0, 12, 198, 51, 100, 23, 10, 0, 0, 1, 0xC3, 0x50, 0, 80,
    ]);
    let mut tcp = TcpStream::connect(gw.http).await.expect("connect");
    tcp.write_all(&header).await.expect("proxy header");
    let head = raw_handshake(&mut tcp, "/chat", &[("X-Forwarded-For", "6.6.6.6")]).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let (_, h) = last_handshake(&backend);
    assert_eq!(h["x-real-ip"], "198.51.100.23");
    assert_eq!(
        h["x-forwarded-for"], "6.6.6.6, 198.51.100.23",
        "the hop history is kept; X-Real-IP is what counts"
    );

    // The per-IP limit counts the PROXY source, not the balancer's address.
    let mut again = TcpStream::connect(gw.http).await.expect("connect");
    again.write_all(&header).await.expect("proxy header");
    let head = raw_handshake(&mut again, "/chat", &[]).await;
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");

    let mut bare = TcpStream::connect(gw.http).await.expect("connect");
    let head = raw_handshake(&mut bare, "/chat", &[]).await;
    assert!(
        head.is_empty(),
        "no PROXY header: the connection is dropped, got {head}"
    );
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&with_proxy_config(
        "  trustedProxies: [\"127.0.0.0/8\"]\n",
        routes("chat", &[backend.addr], ""),
    ));
    gw.wait_ready().await;
    ws_with(&gw.ws_url("/chat"), &[("X-Forwarded-For", "203.0.113.50")])
        .await
        .expect("ws");
    let (_, h) = last_handshake(&backend);
    assert_eq!(h["x-real-ip"], "203.0.113.50");
    assert_eq!(h["x-forwarded-for"], "203.0.113.50, 127.0.0.1");
}
