//! Route-table reloads: new connections follow the new table, established ones are not
//! touched, and an invalid file leaves the last good table in force.

use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{Ws, http_get, next_data, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Wsgate, routes};

async fn whoami(ws: &mut Ws) -> String {
    send_msg(ws, Message::text("whoami")).await;
    match next_data(ws).await {
        Message::Text(t) => t.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

#[e2e]
async fn reload_moves_new_connections_while_an_old_one_keeps_echoing() {
    let old = Backend::start("old").await;
    let new = Backend::start("new").await;
    let gw = Wsgate::launch(&routes("chat", &[old.addr], "")).await;
    gw.wait_ready().await;
    let mut before = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    assert_eq!(whoami(&mut before).await, "old");

    // The chat route now goes to `new`; `old` stays in the table under another path, so
    // this checks the table swap itself, not endpoint draining.
    let second = routes("legacy", &[old.addr], "").replace("value: /}", "value: /legacy}");
    gw.rewrite(&format!("{}---\n{second}", routes("chat", &[new.addr], "")));
    gw.wait_version(2.0).await;

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

#[e2e]
async fn an_invalid_reload_is_logged_counted_and_the_old_table_keeps_serving() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes("chat", &[backend.addr], "")).await;
    gw.wait_ready().await;
    gw.rewrite(&routes("chat", &[backend.addr], "").replace("value: /}", "value: nope}"));
    gw.wait_metric("wsgate_route_table_reloads_total{result=\"rejected\"}", 1.0)
        .await;
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

    // Fixing the file brings a new version.
    gw.rewrite(&routes("chat", &[backend.addr], "  timeouts: {idle: 5m}\n"));
    gw.wait_version(2.0).await;
}

#[e2e]
async fn sighup_applies_a_changed_file_that_polling_has_not_seen_yet() {
    let old = Backend::start("old").await;
    let new = Backend::start("new").await;
    // Polling once an hour: within this test only SIGHUP can bring the change in.
    let gw = Wsgate::launch_with(
        &routes("chat", &[old.addr], ""),
        &["--watch-interval", "1h"],
    )
    .await;
    gw.wait_ready().await;
    let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    assert_eq!(whoami(&mut ws).await, "old");

    gw.rewrite(&routes("chat", &[new.addr], ""));
    // The new file is in place and a connection made after it still gets the old table.
    let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    assert_eq!(whoami(&mut ws).await, "old", "nothing re-read the file");
    assert_eq!(gw.metric("wsgate_route_table_version").await, 1.0);

    gw.signal("HUP");
    gw.wait_version(2.0).await;
    assert!(gw.log().contains("SIGHUP"), "{}", gw.log());
    let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
    assert_eq!(whoami(&mut ws).await, "new", "SIGHUP applied the new file");
    assert_eq!(
        gw.metric("wsgate_route_table_reloads_total{result=\"applied\"}")
            .await,
        2.0
    );
}
