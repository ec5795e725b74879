//! SIGTERM: every WebSocket client gets a 1001 close, then wsgate exits 0.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::ws_connect;
use wsgate_tests::wsgate::{Wsgate, routes};

#[tokio::test]
async fn sigterm_closes_every_client_with_1001_and_exits_zero() {
    let backend = Backend::start("b").await;
    let yaml = format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: p}}\nspec: {{shutdownTimeout: 10s}}\n---\n{}",
        routes("chat", &[backend.addr], "  drain: {period: 1s}\n")
    );
    let mut gw = Wsgate::start(&yaml);
    gw.wait_ready().await;
    let mut clients = Vec::new();
    for _ in 0..10 {
        clients.push(ws_connect(&gw.ws_url("/")).await.expect("connect"));
    }
    gw.signal("TERM");
    let mut codes = Vec::new();
    for ws in clients.iter_mut() {
        let code = loop {
            match tokio::time::timeout(Duration::from_secs(8), ws.next()).await {
                Ok(Some(Ok(Message::Close(f)))) => break f.map(|f| f.code),
                Ok(Some(Ok(_))) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        };
        codes.push(code);
        // Answer the close (tungstenite does so as it keeps reading) and let the TCP end.
        while let Some(Ok(_)) = ws.next().await {}
    }
    assert!(
        codes.iter().all(|c| *c == Some(CloseCode::Away)),
        "{codes:?}"
    );
    let status = gw
        .wait_exit(Duration::from_secs(10))
        .expect("wsgate exits after draining");
    assert!(status.success(), "exit status {status}: {}", gw.log());
    let backend_closes = backend
        .seen()
        .iter()
        .filter(
            |s| matches!(s, Seen::Message(Message::Close(Some(f))) if f.code == CloseCode::Away),
        )
        .count();
    assert_eq!(backend_closes, 10, "every backend connection got 1001 too");
}
