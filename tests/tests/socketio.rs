//! A real Node Socket.IO server behind wsgate, real socket.io-client clients with default
//! transports: long-polling first, then the upgrade to websocket, then events.

use wsgate_tests::node::{SocketIoServer, run_clients};
use wsgate_tests::wsgate::{Wsgate, routes};

#[tokio::test(flavor = "multi_thread")]
async fn socketio_clients_poll_then_upgrade_and_exchange_events_through_wsgate() {
    let server = SocketIoServer::start("sio-a");
    let gw = Wsgate::start(
        &routes("chat", &[server.addr()], "").replace("value: /}", "value: /socket.io/}"),
    );
    gw.wait_ready().await;
    let url = format!("http://{}", gw.http);
    let run = tokio::task::spawn_blocking(move || run_clients(&url, 8, None))
        .await
        .expect("clients");
    assert_eq!(
        run.ok, run.total,
        "every client upgraded and echoed: {}",
        run.output
    );
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    // The polling requests went through the HTTP path and the upgrade through the tunnel.
    assert!(
        gw.metric("wsgate_http_requests_total{code=\"200\",route=\"default/chat\"}")
            .await
            >= 8.0
    );
    assert_eq!(
        gw.metric("wsgate_handshakes_total{result=\"upgraded\",route=\"default/chat\"}")
            .await,
        8.0
    );
}
