//! Refusals: each gets the right status and body, a metric, and never reaches the backend.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tokio::net::{TcpSocket, TcpStream};
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{http_get, http_request};
use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::{Wsgate, binary, routes};

fn upgrade_request(key: &str, version: &str) -> Request<Full<Bytes>> {
    Request::get("/socket")
        .header("host", "chat.example.com")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-key", key)
        .header("sec-websocket-version", version)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

#[e2e]
async fn unknown_host_gets_404_and_bad_handshakes_get_400_without_touching_the_backend() {
    let backend = Backend::start("b").await;
    let yaml = routes("chat", &[backend.addr], "")
        .replace("spec:\n", "spec:\n  hostnames: [chat.example.com]\n");
    let gw = Wsgate::launch(&yaml).await;
    gw.wait_ready().await;

    let (status, body) = http_get(&gw.http_url("/"), Some("other.example.com"))
        .await
        .expect("GET");
    assert_eq!(status, 404);
    assert!(body.contains("no route"), "{body}");

    let authority = gw.http.to_string();
    let (status, body, headers) = http_request(&authority, upgrade_request("short", "13"))
        .await
        .expect("upgrade");
    assert_eq!(status, 400);
    assert!(body.contains("Sec-WebSocket-Key"), "{body}");
    let (status, body, _) =
        http_request(&authority, upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", "8"))
            .await
            .expect("upgrade");
    assert_eq!(status, 400);
    assert!(body.contains("Sec-WebSocket-Version must be 13"), "{body}");
    assert_eq!(
        headers.get("sec-websocket-version").map(|v| v.as_bytes()),
        Some(&b"13"[..])
    );

    assert_eq!(
        backend.requests(),
        0,
        "refused requests must not reach the backend"
    );
    assert_eq!(
        gw.metric("wsgate_request_errors_total{reason=\"bad_handshake\"}")
            .await,
        2.0
    );
    assert_eq!(
        gw.metric("wsgate_request_errors_total{reason=\"no_route\"}")
            .await,
        1.0
    );
}

/// A loopback address where connects are refused, and stay refused: the port is held by a
/// bound socket that never listens, so no other process can take it during the test.
fn refusing_address() -> (TcpSocket, std::net::SocketAddr) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    (socket, addr)
}

#[e2e]
async fn refused_backend_gets_502_and_unanswered_connect_gets_504() {
    let (_held, closed) = refusing_address();
    // A listener whose accept queue is full drops new SYNs, so connects hang until the timeout.
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let stuck = socket.local_addr().expect("addr");
    let _listener = socket.listen(1).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(stuck)).await {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    let yaml = format!(
        "{}---\n{}",
        routes("down", &[closed], "").replace("value: /}", "value: /down}"),
        routes("stuck", &[stuck], "  timeouts: {connect: 300ms}\n")
            .replace("value: /}", "value: /stuck}")
    );
    let gw = Wsgate::launch(&yaml).await;
    gw.wait_ready().await;

    let (status, body) = http_get(&gw.http_url("/down"), None).await.expect("GET");
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("refused"), "{body}");
    assert!(
        !body.contains(&closed.to_string()),
        "internal address leaked: {body}"
    );

    let (status, body) = http_get(&gw.http_url("/stuck"), None).await.expect("GET");
    assert_eq!(status, 504, "{body}");
    assert_eq!(
        gw.metric("wsgate_request_errors_total{reason=\"connect_failed\"}")
            .await,
        1.0
    );
    assert_eq!(
        gw.metric("wsgate_request_errors_total{reason=\"connect_timeout\"}")
            .await,
        1.0
    );
}

#[e2e]
fn a_bad_routes_file_at_start_up_exits_64_naming_the_field() {
    let dir = wsgate_tests::wsgate::Scratch::new("badfile");
    let path = dir.path("routes.yaml");
    std::fs::write(
        &path,
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: chat}\nspec:\n  rules:\n    - path: {type: PathPrefix, value: chat}\n      backend: {addresses: [\"127.0.0.1:1\"]}\n",
    )
    .expect("write");
    let out = output_within(
        std::process::Command::new(binary())
            .args(["proxy", "--config"])
            .arg(&path)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]),
        "wsgate proxy with a bad routes file",
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("chat: spec.rules[0].path.value: must start with /"),
        "{stderr}"
    );
}

#[e2e]
async fn an_upgrade_the_backend_refuses_is_passed_back_and_counted() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes("chat", &[backend.addr], "")).await;
    gw.wait_ready().await;
    // The backend answers `/refuse...` upgrades with 403 and a body instead of 101.
    let (status, body, _) = http_request(
        &gw.http.to_string(),
        Request::get("/refuse/room")
            .header("host", "chat.example.com")
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .body(Full::new(Bytes::new()))
            .expect("request"),
    )
    .await
    .expect("upgrade");
    assert_eq!(
        (status, body.as_str()),
        (403, "backend says no\n"),
        "the backend's refusal reaches the client unchanged"
    );
    assert!(
        backend
            .seen()
            .iter()
            .any(|s| matches!(s, Seen::Handshake(p, _) if p == "/refuse/room")),
        "the handshake did reach the backend"
    );
    assert_eq!(
        gw.metric("wsgate_handshakes_total{namespace=\"default\",result=\"backend_rejected\",route=\"chat\"}")
            .await,
        1.0
    );
    assert_eq!(
        gw.metric("wsgate_handshakes_total{namespace=\"default\",result=\"upgraded\"")
            .await,
        0.0
    );
    assert_eq!(gw.metric("wsgate_active_connections{").await, 0.0);
}
