//! WebSocket and HTTP traffic through the real wsgate binary to a real backend.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{close_ws, http_request, next_msg, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Wsgate, routes};

/// Bytes of one frame as it crosses the wire: 2-byte header, 2 or 8 more for lengths of 126
/// and up, 4 for the mask clients add.
fn frame_bytes(payload: u64, masked: bool) -> f64 {
    let len = match payload {
        0..=125 => 0,
        126..=65535 => 2,
        _ => 8,
    };
    (2 + len + if masked { 4 } else { 0 } + payload) as f64
}

#[e2e]
async fn text_binary_and_one_mebibyte_messages_echo_through() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes("echo", &[backend.addr], "")).await;
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/chat"))
        .await
        .expect("connect through wsgate");

    send_msg(&mut ws, Message::text("hello")).await;
    assert_eq!(next_msg(&mut ws).await, Message::text("hello"));

    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    send_msg(&mut ws, Message::binary(binary.clone())).await;
    assert_eq!(next_msg(&mut ws).await, Message::binary(binary));

    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    send_msg(&mut ws, Message::binary(big.clone())).await;
    match next_msg(&mut ws).await {
        Message::Binary(b) => assert!(b.as_ref() == big.as_slice(), "1 MiB echo differs"),
        other => panic!("expected binary, got {other:?}"),
    }

    // Both directions counted exactly: three messages each way, every frame byte on the wire
    // (client frames are masked, backend frames are not).
    let metric = |name: &str, direction: &str| {
        format!("{name}{{direction=\"{direction}\",namespace=\"default\",route=\"echo\"}}")
    };
    let sizes = [5u64, 4096, 1 << 20];
    let up_bytes: f64 = sizes.iter().map(|n| frame_bytes(*n, true)).sum();
    let down_bytes: f64 = sizes.iter().map(|n| frame_bytes(*n, false)).sum();
    for (direction, bytes) in [
        ("client_to_backend", up_bytes),
        ("backend_to_client", down_bytes),
    ] {
        let messages = gw
            .wait_metric(&metric("wsgate_messages_total", direction), 3.0)
            .await;
        assert_eq!(messages, 3.0, "messages {direction}");
        let counted = gw
            .wait_metric(&metric("wsgate_bytes_total", direction), bytes)
            .await;
        assert_eq!(counted, bytes, "frame bytes {direction}");
    }
    close_ws(&mut ws).await;

    // The backend saw the handshake on the original path, and the messages counted.
    assert!(
        backend
            .seen()
            .iter()
            .any(|s| matches!(s, Seen::Handshake(p, _) if p == "/chat"))
    );
    let up = gw
        .metric("wsgate_messages_total{direction=\"client_to_backend\",namespace=\"default\",route=\"echo\"}")
        .await;
    assert_eq!(up, 3.0, "three messages counted client to backend");
}

#[e2e]
async fn http_get_and_post_are_proxied_with_forwarded_headers() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes("web", &[backend.addr], "")).await;
    gw.wait_ready().await;
    let authority = gw.http.to_string();

    let get = Request::get("/status?x=1")
        .header("host", "app.example.com")
        .header("x-forwarded-for", "203.0.113.7")
        .header("connection", "keep-alive, x-hop-secret")
        .header("x-hop-secret", "must not pass")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, body, _) = http_request(&authority, get).await.expect("GET");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/status?x=1");
    let h = &v["headers"];
    assert_eq!(h["host"], "app.example.com", "Host is kept");
    assert_eq!(
        h["x-forwarded-for"], "127.0.0.1",
        "an untrusted client's X-Forwarded-For is replaced by its address"
    );
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], "app.example.com");
    assert_eq!(h["x-real-ip"], "127.0.0.1");
    assert!(
        h.get("x-hop-secret").is_none(),
        "header named in Connection removed: {h}"
    );

    let post = Request::post("/submit")
        .header("host", "app.example.com")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{\"n\":42}")))
        .expect("request");
    let (status, body, _) = http_request(&authority, post).await.expect("POST");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["body"], "{\"n\":42}");
}
