//! RFC 6455 as wsgate enforces it before and after authentication, through the real binary:
//! broken frames close with 1002 and never reach the backend; pre-auth input is bounded.

mod security_support;

use security_support::{HS_KEY, write_key};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::e2e;
use wsgate_tests::raw::{frame, read_close, send, upgrade};
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

fn data_messages(backend: &Backend) -> Vec<Message> {
    backend
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Message(m @ (Message::Text(_) | Message::Binary(_))) => Some(m),
            _ => None,
        })
        .collect()
}

#[e2e]
async fn l12_strict_protocol_closes_1002_and_the_backend_gets_no_broken_frame() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes("strict", &[backend.addr], "")).await;
    gw.wait_ready().await;
    let cases: [(&str, Vec<u8>); 5] = [
        ("unmasked client frame", frame(0x81, b"hi", false)),
        (
            "reserved bits without an extension",
            frame(0xC1, b"hi", true),
        ),
        ("reserved opcode 3", frame(0x83, b"hi", true)),
        ("orphan continuation", frame(0x80, b"hi", true)),
        ("1-byte close payload", frame(0x88, &[3], true)),
    ];
    for (i, (what, bad)) in cases.iter().enumerate() {
        let (mut tcp, head) = upgrade(gw.http, "/", &[]).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{what}: {head}");
        send(&mut tcp, bad).await;
        let close = read_close(&mut tcp).await;
        assert_eq!(close.as_ref().map(|c| c.0), Some(1002), "{what}: {close:?}");
        // The client leaves instead of answering the close: the tunnel ends at once.
        drop(tcp);
        let counted = gw
            .wait_metric(
                "wsgate_connections_closed_total{code=\"1002\",namespace=\"default\",reason=\"protocol_error\",route=\"strict\"}",
                (i + 1) as f64,
            )
            .await;
        assert_eq!(counted, (i + 1) as f64, "{what}");
    }
    assert_eq!(data_messages(&backend), Vec::<Message>::new());
}

#[e2e]
async fn h1_first_message_ping_flood_is_bounded() {
    let dir = Scratch::new("fm-flood");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b").await;
    let extra = format!(
        "  auth:\n    firstMessageTimeout: 5s\n    ticket:\n      keyFile: {key}\n      from: [FirstMessage]\n"
    );
    let gw = Wsgate::launch(&routes("fm", &[backend.addr], &extra)).await;
    gw.wait_ready().await;
    // Legal 125-byte pings before any ticket: refused once they pass the pre-auth cap
    // (about 20 KiB), long before the ticket timeout.
    let (mut tcp, head) = upgrade(gw.http, "/", &[]).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let ping = frame(0x89, &[b'p'; 125], true);
    let flood: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 400)
        .collect();
    send(&mut tcp, &flood).await;
    let close = read_close(&mut tcp).await;
    assert_eq!(close.as_ref().map(|c| c.0), Some(4401), "{close:?}");
    assert!(close.is_some_and(|c| c.1.contains("too large")));
    // The audit's probe: 16 000-byte "pings" are a protocol error at the first header.
    let (mut tcp, _) = upgrade(gw.http, "/", &[]).await;
    send(&mut tcp, &frame(0x89, &vec![b'p'; 16_000], true)).await;
    assert_eq!(read_close(&mut tcp).await.map(|c| c.0), Some(1002));
    // M1's probe: a fragment, then a continuation declaring 2^64-5 bytes.
    let (mut tcp, _) = upgrade(gw.http, "/", &[]).await;
    let mut wrap = frame(0x01, b"0123456789", true);
    wrap.extend_from_slice(&[0x80, 0x80 | 127]);
    wrap.extend_from_slice(&(u64::MAX - 4).to_be_bytes());
    wrap.extend_from_slice(&[1, 2, 3, 4]);
    send(&mut tcp, &wrap).await;
    assert_eq!(read_close(&mut tcp).await.map(|c| c.0), Some(4401));
    assert_eq!(backend.handshakes(), 0, "nothing reached the backend");
    assert!(
        gw.wait_log("FirstMessage ticket refused")
            .await
            .contains("too large")
    );
    assert!(!gw.log().contains("panicked"), "no task panicked");
}
