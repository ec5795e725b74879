//! A real Node Socket.IO server behind wsgate, real socket.io-client clients with default
//! transports: long-polling first, then the upgrade to websocket, then events.

#[path = "support/mod.rs"]
mod support;

use support::certs::{Alg, Ca};
use support::{start_tls, tls_route, write_pair};
use wsgate_tests::e2e;
use wsgate_tests::node::{SocketIoServer, run_clients};
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

#[e2e(multi_thread, heavy)]
async fn socketio_clients_poll_then_upgrade_and_exchange_events_through_wsgate() {
    let server = SocketIoServer::start("sio-a");
    let gw = Wsgate::launch(
        &routes("chat", &[server.addr()], "").replace("value: /}", "value: /socket.io/}"),
    )
    .await;
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
        gw.metric("wsgate_http_requests_total{code=\"200\",namespace=\"default\",route=\"chat\"}")
            .await
            >= 8.0
    );
    assert_eq!(
        gw.metric(
            "wsgate_handshakes_total{namespace=\"default\",result=\"upgraded\",route=\"chat\"}"
        )
        .await,
        8.0
    );
}

#[e2e(multi_thread, heavy)]
async fn socketio_clients_work_over_https_with_wsgate_terminating_tls() {
    let root = Ca::root("wsgate socket.io test root");
    let leaf = root.leaf(&["localhost"], Alg::Ecdsa);
    let dir = Scratch::new("sio-tls");
    let certs = write_pair(&dir.path("certs"), &leaf);
    let ca = dir.path("ca.crt");
    std::fs::write(&ca, &root.pem).expect("write CA");
    let server = SocketIoServer::start("sio-tls");
    let routes = tls_route("chat", &["localhost"], server.addr(), Some(&certs), "", "");
    let (gw, https) = start_tls(&routes).await;
    let url = format!("https://localhost:{}", https.port());
    let run = tokio::task::spawn_blocking(move || run_clients(&url, 4, Some(&ca)))
        .await
        .expect("clients");
    assert_eq!(
        run.ok, run.total,
        "every https client upgraded and echoed: {}",
        run.output
    );
    assert_eq!(
        gw.metric(
            "wsgate_handshakes_total{namespace=\"default\",result=\"upgraded\",route=\"chat\"}"
        )
        .await,
        4.0
    );
    assert!(gw.metric("wsgate_tls_handshakes_total{result=\"ok\"").await >= 4.0);
}
