//! WebSocket and HTTP traffic through the real wsgate binary to a real backend.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::Request;
use http_body_util::Full;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{http_request, ws_connect};
use wsgate_tests::wsgate::{Wsgate, routes};

#[tokio::test]
async fn text_binary_and_one_mebibyte_messages_echo_through() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&routes("echo", &[backend.addr], ""));
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/chat"))
        .await
        .expect("connect through wsgate");

    ws.send(Message::text("hello")).await.expect("send");
    assert_eq!(
        ws.next().await.expect("reply").expect("ok"),
        Message::text("hello")
    );

    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    ws.send(Message::binary(binary.clone()))
        .await
        .expect("send");
    assert_eq!(
        ws.next().await.expect("reply").expect("ok"),
        Message::binary(binary)
    );

    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    ws.send(Message::binary(big.clone()))
        .await
        .expect("send 1 MiB");
    match ws.next().await.expect("reply").expect("ok") {
        Message::Binary(b) => assert!(b.as_ref() == big.as_slice(), "1 MiB echo differs"),
        other => panic!("expected binary, got {other:?}"),
    }
    ws.close(None).await.expect("close");

    // The backend saw the handshake on the original path, and the messages counted.
    assert!(
        backend
            .seen()
            .iter()
            .any(|s| matches!(s, Seen::Handshake(p, _) if p == "/chat"))
    );
    let up = gw
        .metric("wsgate_messages_total{direction=\"client_to_backend\",route=\"default/echo\"}")
        .await;
    assert_eq!(up, 3.0, "three messages counted client to backend");
}

#[tokio::test]
async fn http_get_and_post_are_proxied_with_forwarded_headers() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&routes("web", &[backend.addr], ""));
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
        h["x-forwarded-for"], "203.0.113.7, 127.0.0.1",
        "client appended to X-Forwarded-For"
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
