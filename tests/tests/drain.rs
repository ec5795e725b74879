//! The pod's shutdown order with wsgate as a native sidecar, played with real processes in
//! the kubelet's order: wsgate starts first and becomes ready (its startup probe), then the
//! app, a real Socket.IO server. On deletion the app's preStop calls wsgate's `/drain` and
//! waits for it; only then does the app get SIGTERM, and wsgate gets its own after the app
//! has exited.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use http::Method;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{Ws, http_get, next_data, next_within, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::node::SocketIoServer;
use wsgate_tests::wait::{IO_TIMEOUT, SETTLE_TIMEOUT, within};
use wsgate_tests::wsgate::{Wsgate, routes};

const CLIENTS: usize = 16;
/// The route's drain period: closes are spread over it.
const DRAIN_PERIOD: Duration = Duration::from_secs(4);
/// `shutdownTimeout`: the drain waits at most this long; the spread is capped at 6 s less.
const SHUTDOWN_TIMEOUT: &str = "10s";

/// The routes file as the injected sidecar reads it: wsgate in front of the app's port.
fn sidecar_routes(app_port: u16) -> String {
    let app = std::net::SocketAddr::from(([127, 0, 0, 1], app_port));
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: sidecar}}\n\
         spec: {{shutdownTimeout: {SHUTDOWN_TIMEOUT}}}\n---\n{}",
        routes(
            "app",
            &[app],
            &format!("  drain: {{period: {}s}}\n", DRAIN_PERIOD.as_secs())
        )
    )
}

/// A free loopback port for the app, which starts after wsgate as in the pod.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A Socket.IO client on the websocket transport: the Engine.IO open packet, then the
/// connect of the main namespace, answered by the app.
async fn socketio_client(gw: &Wsgate) -> Ws {
    let url = gw.ws_url("/socket.io/?EIO=4&transport=websocket");
    let mut ws = ws_connect(&url).await.expect("connect through wsgate");
    match next_data(&mut ws).await {
        Message::Text(t) if t.starts_with('0') => {}
        other => panic!("expected the Engine.IO open packet, got {other:?}"),
    }
    send_msg(&mut ws, Message::text("40")).await;
    match next_data(&mut ws).await {
        Message::Text(t) if t.starts_with("40") => {}
        other => panic!("expected the Socket.IO connect answer, got {other:?}"),
    }
    ws
}

/// Reads until the close frame arrives: its code and when it arrived.
async fn await_close(mut ws: Ws) -> (Option<CloseCode>, Instant) {
    loop {
        match next_within(&mut ws, SETTLE_TIMEOUT).await {
            Some(Ok(Message::Close(frame))) => {
                let at = Instant::now();
                // Let tungstenite answer the close and the TCP connection end.
                while let Some(Ok(_)) = next_within(&mut ws, IO_TIMEOUT).await {}
                return (frame.map(|f| f.code), at);
            }
            // Engine.IO ping: answer it so the app keeps the session.
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                send_msg(&mut ws, Message::text("3")).await;
            }
            Some(Ok(_)) => continue,
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    }
}

#[e2e(multi_thread, heavy, limit = 120)]
async fn prestop_drain_closes_every_socket_with_1001_spread_before_the_app_stops() {
    let app_port = free_port();
    let mut gw = Wsgate::launch(&sidecar_routes(app_port)).await;
    // The startup probe: the kubelet starts the app only once wsgate is ready.
    gw.wait_ready().await;
    let mut app = SocketIoServer::start_on(app_port, "app");

    let mut sockets = Vec::new();
    for _ in 0..CLIENTS {
        let ws = socketio_client(&gw).await;
        sockets.push(tokio::spawn(await_close(ws)));
    }

    // preStop on the app container: the call returns once the sockets have closed.
    let limit = Duration::from_secs(30);
    let (status, body, _) = gw.admin_request(Method::POST, "/drain", limit).await;
    let answered = Instant::now();
    assert_eq!(status, 200, "{body}\n{}", gw.log());
    let report: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(report["drained"], true, "{body}");
    assert_eq!(report["closed"], CLIENTS, "{body}");
    assert_eq!(report["open"], 0, "{body}");

    let mut closes = Vec::new();
    for socket in sockets {
        closes.push(
            within(IO_TIMEOUT, "a client's close", socket)
                .await
                .expect("client task"),
        );
    }
    assert!(
        closes
            .iter()
            .all(|(code, _)| *code == Some(CloseCode::Away)),
        "every client got 1001: {closes:?}"
    );
    assert!(
        closes.iter().all(|(_, at)| *at <= answered),
        "every close arrived before the preStop call returned"
    );
    assert!(app.is_running(), "the app was still up for every close");
    // Spread, not a burst: 16 closes at random points of a 4 s period all fall within 1 s
    // with a probability near 1e-8, while closes sent at once arrive within milliseconds.
    let first = closes.iter().map(|(_, at)| *at).min().expect("closes");
    let last = closes.iter().map(|(_, at)| *at).max().expect("closes");
    assert!(
        last - first >= DRAIN_PERIOD / 4,
        "closes spread over the drain period, not sent at once: {:?} apart",
        last - first
    );

    // A draining wsgate is out of the Service and refuses newcomers, who retry elsewhere.
    assert_eq!(
        gw.admin_get("/readyz").await,
        (503, "draining\n".to_string())
    );
    match ws_connect(&gw.ws_url("/socket.io/?EIO=4&transport=websocket")).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 503),
        other => panic!("a new socket during the drain: {:?}", other.map(|_| ())),
    }

    // Then the kubelet stops the app, and wsgate once the app has exited.
    app.terminate();
    assert!(
        app.exited_within(SETTLE_TIMEOUT).await.is_some(),
        "the app exits on SIGTERM"
    );
    gw.signal("TERM");
    let status = gw.wait_exit(SETTLE_TIMEOUT).await.expect("wsgate exits");
    assert!(status.success(), "exit status {status}: {}", gw.log());
}

#[e2e]
async fn drain_answers_the_kubelets_get_at_once_when_nothing_is_open() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes("chat", &[backend.addr], "")).await;
    gw.wait_ready().await;

    let (status, _, headers) = gw.admin_request(Method::DELETE, "/drain", IO_TIMEOUT).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "POST, GET");
    assert_eq!(
        gw.admin_get("/readyz").await.0,
        200,
        "a refused call drains nothing"
    );

    // The kubelet's httpGet lifecycle hook can only send GET.
    let (status, body) = gw.admin_get("/drain").await;
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        (report["drained"].clone(), report["closed"].clone()),
        (true.into(), 0.into())
    );

    assert_eq!(
        gw.admin_get("/readyz").await,
        (503, "draining\n".to_string())
    );
    let (status, _) = http_get(&gw.http_url("/"), None).await.expect("HTTP");
    assert_eq!(status, 503, "requests are refused while draining");
    assert_eq!(gw.admin_get("/healthz").await.0, 200, "still alive");
}
