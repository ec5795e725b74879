use super::*;
use crate::balance::endpoint::EndpointRegistry;
use crate::metrics::Metrics;

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

#[test]
fn an_expired_session_stops_counting_on_its_endpoint() {
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let registry = EndpointRegistry::new(Default::default(), metrics.endpoints);
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
