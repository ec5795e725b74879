//! Route-table reloads: new connections follow the new table, established ones are not
//! touched, and an invalid file leaves the last good table in force.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{Ws, http_get, ws_connect};
use wsgate_tests::wsgate::{Wsgate, routes};

async fn whoami(ws: &mut Ws) -> String {
    ws.send(Message::text("whoami")).await.expect("send");
    match ws.next().await.expect("reply").expect("ok") {
        Message::Text(t) => t.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

async fn wait_version(gw: &Wsgate, version: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metric("wsgate_route_table_version").await < version {
        assert!(
            Instant::now() < deadline,
            "table version {version} never applied: {}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reload_moves_new_connections_while_an_old_one_keeps_echoing() {
    let old = Backend::start("old").await;
    let new = Backend::start("new").await;
    let gw = Wsgate::start(&routes("chat", &[old.addr], ""));
    gw.wait_ready().await;
    let mut before = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    assert_eq!(whoami(&mut before).await, "old");

    // The chat route now goes to `new`; `old` stays in the table under another path, so
    // this checks the table swap itself, not endpoint draining.
    let second = routes("legacy", &[old.addr], "").replace("value: /}", "value: /legacy}");
    gw.rewrite(&format!("{}---\n{second}", routes("chat", &[new.addr], "")));
    wait_version(&gw, 2.0).await;

    let mut after = ws_connect(&gw.ws_url("/chat"))
        .await
        .expect("connect after reload");
    assert_eq!(
        whoami(&mut after).await,
        "new",
        "new connections use the new table"
    );
    for _ in 0..3 {
        assert_eq!(
            whoami(&mut before).await,
            "old",
            "the established connection keeps its backend"
        );
    }
    assert_eq!(
        gw.metric("wsgate_route_table_reloads_total{result=\"applied\"}")
            .await,
        2.0
    );
}

#[tokio::test]
async fn an_invalid_reload_is_logged_counted_and_the_old_table_keeps_serving() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::start(&routes("chat", &[backend.addr], ""));
    gw.wait_ready().await;
    gw.rewrite(&routes("chat", &[backend.addr], "").replace("value: /}", "value: nope}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw
        .metric("wsgate_route_table_reloads_total{result=\"rejected\"}")
        .await
        < 1.0
    {
        assert!(
            Instant::now() < deadline,
            "rejection never counted: {}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gw.log()
            .contains("chat: spec.rules[0].path.value: must start with /"),
        "the log names the field: {}",
        gw.log()
    );
    assert_eq!(gw.metric("wsgate_route_table_version").await, 1.0);
    let (status, _) = http_get(&gw.http_url("/still-here"), None)
        .await
        .expect("GET");
    assert_eq!(status, 200, "the last good table still serves");
    let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    assert_eq!(whoami(&mut ws).await, "b");

    // SIGHUP forces a re-read; fixing the file brings a new version.
    gw.rewrite(&routes("chat", &[backend.addr], "  timeouts: {idle: 5m}\n"));
    gw.signal("HUP");
    wait_version(&gw, 2.0).await;
}
