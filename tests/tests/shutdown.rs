//! SIGTERM: every WebSocket client gets a 1001 close, then wsgate exits 0.

use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{drain, next_within, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::wait::{SETTLE_TIMEOUT, until};
use wsgate_tests::wsgate::{Wsgate, routes};

fn backend_away_closes(backend: &Backend) -> usize {
    backend
        .seen()
        .iter()
        .filter(
            |s| matches!(s, Seen::Message(Message::Close(Some(f))) if f.code == CloseCode::Away),
        )
        .count()
}

#[e2e]
async fn sigterm_closes_every_client_with_1001_and_exits_zero() {
    let backend = Backend::start("b").await;
    let yaml = format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: p}}\nspec: {{shutdownTimeout: 10s}}\n---\n{}",
        routes("chat", &[backend.addr], "  drain: {period: 1s}\n")
    );
    let mut gw = Wsgate::launch(&yaml).await;
    gw.wait_ready().await;
    let mut clients = Vec::new();
    for _ in 0..10 {
        clients.push(ws_connect(&gw.ws_url("/")).await.expect("connect"));
    }
    gw.signal("TERM");
    let mut codes = Vec::new();
    for ws in clients.iter_mut() {
        let code = loop {
            match next_within(ws, SETTLE_TIMEOUT).await {
                Some(Ok(Message::Close(f))) => break f.map(|f| f.code),
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        };
        codes.push(code);
        // Answer the close (tungstenite does so as it keeps reading) and let the TCP end.
        drain(ws).await;
    }
    assert!(
        codes.iter().all(|c| *c == Some(CloseCode::Away)),
        "{codes:?}"
    );
    // Waiting without blocking lets the in-process backend read what wsgate sent it.
    let status = gw
        .wait_exit(SETTLE_TIMEOUT)
        .await
        .expect("wsgate exits after draining");
    assert!(status.success(), "exit status {status}: {}", gw.log());
    until(
        || {
            format!(
                "every backend connection got 1001 too: {} of 10",
                backend_away_closes(&backend)
            )
        },
        || async { backend_away_closes(&backend) >= 10 },
    )
    .await;
    assert_eq!(backend_away_closes(&backend), 10);
}
