//! The middle test tier: the proxy library itself, `wsgate_proxy::run` (what the binary's
//! `proxy` command calls), driven in this process on 127.0.0.1:0 with a real
//! tokio-tungstenite client and an in-process backend. Every await is bounded.
//!
//! ```text
//!   test ──ws──> wsgate_proxy::run (this process, port 0) ──> Backend (this process)
//!        <─table over tokio::sync::watch, shutdown token, metrics registry─
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;
use wsgate_core::table::RouteTable;
use wsgate_core::table::security::ListenerOptions;
use wsgate_proxy::{ListenAddrs, Listeners, Metrics};
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{Ws, http_get, ws_connect};

/// Longest wait for any one step.
const WAIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, step: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, step).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {WAIT:?}"),
    }
}

/// The next text message (pings and pongs skipped).
async fn next_text(ws: &mut Ws) -> String {
    loop {
        match within("next message", ws.next()).await {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Version 1 of a table with one route, `/chat` to `backend`.
fn table(backend: SocketAddr) -> RouteTable {
    let yaml = format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: chat}}\nspec:\n  \
         rules: [{{path: {{type: PathPrefix, value: /chat}}, backend: {{addresses: [\"{backend}\"]}}}}]\n"
    );
    let loaded = wsgate_core::config::load_str(&yaml).expect("routes");
    RouteTable {
        version: 1,
        ..loaded.table
    }
}

#[tokio::test]
async fn run_relays_a_websocket_counts_it_and_drains_it_on_shutdown() {
    let backend = Backend::start("b1").await;
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let addrs = ListenAddrs {
        http: any,
        https: None,
        admin: any,
    };
    let listeners = within("bind", Listeners::bind(addrs, ListenerOptions::default()))
        .await
        .expect("listeners");
    let bound: Vec<(&str, SocketAddr)> = listeners.local_addrs().expect("addresses");
    let addr = |name: &str| bound.iter().find(|(n, _)| *n == name).expect("listener").1;
    let (http, admin) = (addr("http"), addr("admin"));
    let (_tables, rx) = watch::channel(Arc::new(table(backend.addr)));
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let shutdown = CancellationToken::new();
    // Closes on shutdown are spread over at most 1 s (the timeout less 6 s of grace).
    let proxy = tokio::spawn(wsgate_proxy::run(
        listeners,
        rx,
        metrics,
        shutdown.clone(),
        Duration::from_secs(7),
    ));

    let ready = within("readyz", http_get(&format!("http://{admin}/readyz"), None)).await;
    assert_eq!(ready.expect("readyz").0, 200, "a table is in force");

    let mut ws = within("connect", ws_connect(&format!("ws://{http}/chat/room")))
        .await
        .expect("WebSocket through the proxy");
    within("send", ws.send(Message::text("hello")))
        .await
        .expect("send");
    assert_eq!(next_text(&mut ws).await, "hello");
    within("send", ws.send(Message::text("whoami")))
        .await
        .expect("send");
    assert_eq!(
        next_text(&mut ws).await,
        "b1",
        "the route's endpoint answered"
    );

    let seen = backend.seen();
    let Some(Seen::Handshake(path, headers)) = seen.first() else {
        panic!("the backend saw no handshake first: {seen:?}");
    };
    assert_eq!(path, "/chat/room");
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");

    let (status, text) = within(
        "metrics",
        http_get(&format!("http://{admin}/metrics"), None),
    )
    .await
    .expect("metrics");
    assert_eq!(status, 200);
    let active = format!(
        "wsgate_active_connections{{endpoint=\"{}\",namespace=\"default\",route=\"chat\"}} 1",
        backend.addr
    );
    for line in [
        "wsgate_handshakes_total{namespace=\"default\",result=\"upgraded\",route=\"chat\"} 1",
        "wsgate_messages_total{direction=\"client_to_backend\",namespace=\"default\",route=\"chat\"} 2",
        "wsgate_messages_total{direction=\"backend_to_client\",namespace=\"default\",route=\"chat\"} 2",
        &active,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }

    shutdown.cancel();
    let code = loop {
        match within("close frame", ws.next()).await {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| f.code),
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(code, Some(CloseCode::Away), "drained with 1001");
    // Reading on answers the close; the proxy then sees the tunnel end and returns.
    while let Some(Ok(_)) = within("close handshake", ws.next()).await {}
    within("run() to return", proxy)
        .await
        .expect("run ended cleanly");
}
