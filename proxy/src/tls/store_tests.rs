use super::*;
use wsgate_core::table::{Route, RouteId, RoutePolicy};

fn cert(chain: &[u8], key: &[u8], min_version: TlsVersion) -> Arc<TlsCert> {
    Arc::new(TlsCert {
        cert_chain_pem: chain.into(),
        key_pem: key.into(),
        min_version,
    })
}

fn route(name: &str, hosts: &[HostMatch], tls: Option<Arc<TlsCert>>) -> Route {
    Route {
        id: RouteId {
            namespace: "default".into(),
            name: name.into(),
        },
        hostnames: hosts.to_vec().into(),
        rules: Vec::new().into(),
        policy: Arc::new(RoutePolicy::default()),
        tls,
    }
}

fn rsa() -> Arc<TlsCert> {
    let (c, k) = (
        include_bytes!("../../../core/src/cert/testdata/rsa.crt"),
        include_bytes!("../../../core/src/cert/testdata/rsa.key"),
    );
    cert(c, k, TlsVersion::Tls12)
}

fn ecdsa() -> Arc<TlsCert> {
    let (c, k) = (
        include_bytes!("../../../core/src/cert/testdata/ecdsa.crt"),
        include_bytes!("../../../core/src/cert/testdata/ecdsa.key"),
    );
    cert(c, k, TlsVersion::Tls13)
}

fn ed25519() -> Arc<TlsCert> {
    let (c, k) = (
        include_bytes!("../../../core/src/cert/testdata/ed25519.crt"),
        include_bytes!("../../../core/src/cert/testdata/ed25519.key"),
    );
    cert(c, k, TlsVersion::Tls12)
}

fn setup() -> (TlsBase, TlsMetrics, prometheus::Registry) {
    let registry = prometheus::Registry::new();
    let metrics = crate::metrics::Metrics::new(&registry)
        .expect("metrics")
        .tls;
    (TlsBase::new().expect("base"), metrics, registry)
}

fn exact(h: &str) -> HostMatch {
    HostMatch::Exact(h.into())
}

fn same(a: Option<&Arc<ServerConfig>>, b: Option<&Arc<ServerConfig>>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
}

#[test]
fn exact_name_then_longest_wildcard_then_default() {
    let (base, metrics, _r) = setup();
    let table = RouteTable {
        version: 1,
        routes: vec![
            route("a", &[exact("rsa.example.com")], Some(rsa())),
            route(
                "b",
                &[HostMatch::Wildcard(".example.com".into())],
                Some(ecdsa()),
            ),
            route(
                "c",
                &[HostMatch::Wildcard(".deep.example.com".into())],
                Some(ed25519()),
            ),
            route("plain", &[exact("plain.example.com")], None),
        ]
        .into(),
        refused: Default::default(),
    };
    let store = CertStore::build(&table, &CertStore::default(), &base, &metrics);
    let exact_cfg = store.lookup(Some("rsa.example.com"));
    let wild = store.lookup(Some("chat.example.com"));
    let deep = store.lookup(Some("x.deep.example.com"));
    assert!(exact_cfg.is_some() && wild.is_some() && deep.is_some());
    assert!(!same(exact_cfg, wild), "exact host has its own certificate");
    assert!(!same(wild, deep), "the longer wildcard wins");
    assert!(
        same(store.lookup(Some("RSA.Example.COM.")), exact_cfg),
        "case and root dot"
    );
    assert!(
        same(store.lookup(Some("a.b.example.com")), wild),
        "wildcard spans labels"
    );
    assert!(
        same(store.lookup(Some("plain.example.com")), wild),
        "route without tls"
    );
    assert!(
        store.lookup(Some("example.com")).is_none(),
        "apex is not *.example.com"
    );
    assert!(
        store.lookup(Some("other.org")).is_none(),
        "no default certificate"
    );
    assert!(store.lookup(None).is_none(), "no SNI and no default");
}

#[test]
fn a_route_without_hostnames_provides_the_default_certificate() {
    let (base, metrics, _r) = setup();
    let table = RouteTable {
        version: 1,
        routes: vec![
            route("a", &[exact("rsa.example.com")], Some(rsa())),
            route("catch-all", &[], Some(ed25519())),
            route("later", &[], Some(ecdsa())),
        ]
        .into(),
        refused: Default::default(),
    };
    let store = CertStore::build(&table, &CertStore::default(), &base, &metrics);
    let default = store.lookup(Some("other.org"));
    assert!(default.is_some());
    assert!(same(store.lookup(None), default), "no SNI gets the default");
    assert!(!same(store.lookup(Some("rsa.example.com")), default));
}

#[test]
fn an_unusable_certificate_is_skipped_counted_and_expiry_is_exported() {
    let (base, metrics, registry) = setup();
    let broken = cert(
        include_bytes!("../../../core/src/cert/testdata/rsa.crt"),
        include_bytes!("../../../core/src/cert/testdata/ecdsa.key"),
        TlsVersion::Tls12,
    );
    let table = RouteTable {
        version: 1,
        routes: vec![
            route("bad", &[exact("bad.example.com")], Some(broken)),
            route("good", &[exact("rsa.example.com")], Some(rsa())),
        ]
        .into(),
        refused: Default::default(),
    };
    let store = CertStore::build(&table, &CertStore::default(), &base, &metrics);
    assert!(store.lookup(Some("bad.example.com")).is_none());
    assert!(store.lookup(Some("rsa.example.com")).is_some());
    let text = {
        let mut out = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut out,
        )
        .expect("encode");
        String::from_utf8(out).expect("utf8")
    };
    assert!(
        text.contains("wsgate_certificate_errors{namespace=\"default\",route=\"bad\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "wsgate_certificate_expiry_timestamp_seconds{host=\"rsa.example.com\"} 4948922571"
        ),
        "{text}"
    );
    assert!(!text.contains("host=\"bad.example.com\""), "{text}");
}
