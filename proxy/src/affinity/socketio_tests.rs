use super::*;
use http_body_util::BodyExt;
use std::collections::VecDeque;

/// A body delivered in the given chunks.
struct Chunks(VecDeque<Bytes>);

impl HttpBody for Chunks {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

const OPEN: &[u8] =
    br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn recognises_engine_io_requests() {
    let q = |s| engine_io(Some(s));
    assert_eq!(
        q("EIO=4&transport=polling&t=abc"),
        Some(EngineIo {
            sid: None,
            polling: true
        })
    );
    assert_eq!(
        q("EIO=4&transport=websocket&sid=xyz"),
        Some(EngineIo {
            sid: Some("xyz"),
            polling: false
        })
    );
    assert_eq!(
        q("EIO=3&sid=xyz"),
        Some(EngineIo {
            sid: Some("xyz"),
            polling: true
        })
    );
    assert_eq!(q("transport=polling&sid=xyz"), None);
    assert_eq!(engine_io(None), None);
}

#[test]
fn parses_the_open_packet_of_both_protocol_versions() {
    let (sid, ttl) = parse_open_packet(OPEN).expect("open packet");
    assert_eq!(sid, "lv_VI97HAXpY6yYWAAAC");
    assert_eq!(ttl, Duration::from_secs(45) + TTL_SLACK);
    let mut v3 = b"96:".to_vec();
    v3.extend_from_slice(OPEN);
    v3.extend_from_slice(b"2:40");
    assert_eq!(
        parse_open_packet(&v3).map(|p| p.0).as_deref(),
        Some("lv_VI97HAXpY6yYWAAAC")
    );
    // Incomplete, or not an open packet: nothing learned (yet).
    assert_eq!(parse_open_packet(&OPEN[..30]), None);
    assert_eq!(parse_open_packet(b"4hello"), None);
    assert_eq!(parse_open_packet(br#"0{"sid":"a b"}"#), None);
    let bare = parse_open_packet(br#"0{"sid":"abc"}"#).expect("bare");
    assert_eq!(bare.1, DEFAULT_TTL);
}

#[test]
fn store_refreshes_expires_and_forgets_removed_endpoints() {
    let store = SessionStore::default();
    store.learn("a", addr(1), Duration::from_millis(200), None);
    store.learn("b", addr(2), Duration::from_secs(60), None);
    assert_eq!(store.lookup("a", false), Some(addr(1)));
    assert_eq!(store.lookup("zz", false), None);
    std::thread::sleep(Duration::from_millis(120));
    // A request within the lifetime refreshes it.
    assert_eq!(store.lookup("a", false), Some(addr(1)));
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(store.lookup("a", false), Some(addr(1)));
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(store.lookup("a", false), None, "an idle session expires");
    assert_eq!(store.len(), 1);
    store.forget_endpoints_not_in(&HashSet::from([addr(1)]));
    assert_eq!(store.lookup("b", false), None);
    assert!(store.is_empty());
}

#[tokio::test]
async fn sniffing_learns_the_sid_from_a_split_body_and_passes_it_unchanged() {
    let metrics = crate::metrics::Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let registry = crate::endpoint::EndpointRegistry::new(Default::default(), metrics);
    let endpoint = registry.get(addr(7));
    let store = Arc::new(SessionStore::default());
    let chunks = Chunks(VecDeque::from([
        Bytes::from_static(&OPEN[..10]),
        Bytes::from_static(&OPEN[10..]),
    ]));
    let inner: Body = chunks.boxed();
    let learn = Learn {
        store: store.clone(),
        endpoint: endpoint.clone(),
        ttl: None,
        hold: Some(endpoint.hold()),
    };
    assert_eq!(endpoint.active(), 1, "the handshake counts as its session");
    let body = SniffBody::new(inner, learn)
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], OPEN);
    // The session counts on its endpoint while it polls, and stops once it upgrades.
    assert_eq!(endpoint.active(), 1);
    let sid = "lv_VI97HAXpY6yYWAAAC";
    assert_eq!(store.find(sid, false), Some((addr(7), true)));
    assert_eq!(endpoint.active(), 1);
    assert_eq!(store.lookup(sid, true), Some(addr(7)));
    assert_eq!(endpoint.active(), 0);
    assert_eq!(store.find(sid, false), Some((addr(7), false)));
}

#[test]
fn an_expired_session_stops_counting_on_its_endpoint() {
    let metrics = crate::metrics::Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let registry = crate::endpoint::EndpointRegistry::new(Default::default(), metrics);
    let endpoint = registry.get(addr(8));
    let store = SessionStore::default();
    store.learn(
        "s",
        addr(8),
        Duration::from_millis(50),
        Some(endpoint.hold()),
    );
    assert_eq!(endpoint.active(), 1);
    std::thread::sleep(SWEEP_EVERY + Duration::from_millis(50));
    store.sweep_if_due();
    assert_eq!(endpoint.active(), 0);
    assert!(store.is_empty());
}
