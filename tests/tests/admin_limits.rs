//! M8 through the real binary: the admin listener bounds what a client can hold on it.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::wait::{IO_TIMEOUT, SETTLE_TIMEOUT, until, within};
use wsgate_tests::wsgate::{Wsgate, routes};

/// The admin listener's connection cap (proxy/src/admin/listener.rs).
const MAX_CONNECTIONS: usize = 64;

async fn connect(gw: &Wsgate) -> TcpStream {
    within(IO_TIMEOUT, "admin connect", TcpStream::connect(gw.admin))
        .await
        .expect("connect")
}

#[e2e(limit = 120)]
async fn m8_admin_listener_caps_connections_and_times_out_partial_heads() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes("r", &[backend.addr], "")).await;
    gw.wait_ready().await;
    // A partial head is cut at the head timeout (the audit's was still open after 40 s).
    let mut partial = connect(&gw).await;
    partial
        .write_all(b"GET /metrics HTTP/1.1\r\nHo")
        .await
        .expect("write");
    let mut buf = [0u8; 256];
    let read = within(
        SETTLE_TIMEOUT * 2,
        "the head timeout",
        partial.read(&mut buf),
    )
    .await;
    assert!(
        matches!(read, Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 408"),
        "{read:?}"
    );
    // Idle connections up to the cap are held; the next one is closed at once, so the
    // listener never runs out of descriptors for the client listeners.
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        held.push(connect(&gw).await);
    }
    // (Held connections are cut at the head timeout too, so this runs right after.)
    let mut extra = connect(&gw).await;
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = within(
        IO_TIMEOUT,
        "the extra connection",
        extra.read_to_end(&mut answer),
    )
    .await;
    assert!(
        answer.is_empty(),
        "over the cap: closed unanswered, got {answer:?}"
    );
    drop(held);
    // Once they are gone, the probes answer again. (wsgate notices the closes on its own
    // time: until then a probe may still be refused, which is not an error here.)
    let healthz = format!("http://{}/healthz", gw.admin);
    until(
        || "the admin listener serves again".to_string(),
        || async {
            let answer = wsgate_tests::client::http_get(&healthz, None).await;
            matches!(answer, Ok((200, _)))
        },
    )
    .await;
    // The client listeners were never affected.
    let (status, _) = wsgate_tests::client::http_get(&gw.http_url("/"), None)
        .await
        .expect("GET");
    assert_eq!(status, 200);
}
