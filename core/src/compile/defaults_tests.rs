//! The defaults the README documents, pinned as literal values: a route that sets nothing
//! must behave as the documentation says, whatever `Default` impls say.

use std::net::SocketAddr;
use std::time::Duration;

use http::HeaderName;

use crate::config::load_str;
use crate::spec::{Algorithm, SameSite, TicketPlacement};
use crate::table::{Affinity, Drain, HashKey, Keepalive, RoutePolicy};

const SECOND: Duration = Duration::from_secs(1);

/// Timeouts, keepalive, message size, drain, balancing of a route that sets none of them.
pub fn assert_documented_route_defaults(p: &RoutePolicy) {
    assert_eq!(p.handshake_timeout, 10 * SECOND, "timeouts.handshake");
    assert_eq!(p.connect_timeout, 5 * SECOND, "timeouts.connect");
    assert_eq!(p.request_timeout, 60 * SECOND, "timeouts.request");
    assert_eq!(p.idle_timeout, Some(3600 * SECOND), "timeouts.idle: 1h");
    let keepalive = Keepalive {
        interval: 30 * SECOND,
        pong_timeout: 10 * SECOND,
    };
    assert_eq!(p.keepalive, Some(keepalive), "keepalive 30s / 10s");
    assert_eq!(
        p.max_message_bytes, 16_777_216,
        "limits.maxMessageBytes: 16 MiB"
    );
    let drain = Drain {
        close_code: 1001,
        period: 30 * SECOND,
    };
    assert_eq!(p.drain, drain, "drain: 1001 over 30s");
    assert_eq!(p.balancing.algorithm, Algorithm::LeastConnections);
    assert_eq!(p.balancing.slow_start, Duration::ZERO, "slowStart: off");
    assert_eq!(p.affinity, Affinity::None);
    assert!(!p.redirect_http, "tls.redirectHttp: off");
    let sec = &p.security;
    assert!(sec.origins.is_none() && sec.ticket.is_none() && sec.external.is_none());
    assert_eq!(
        sec.first_message_timeout,
        5 * SECOND,
        "auth.firstMessageTimeout"
    );
    let l = sec.limits;
    assert_eq!(
        (l.per_ip, l.per_route, l.rate),
        (None, None, None),
        "no limits"
    );
    assert!(!l.cluster, "limits.scope: Replica");
}

const ROUTES: &str = r#"
apiVersion: wsgate.dev/v1alpha1
kind: ProxyConfig
metadata: {name: defaults}
spec: {}
---
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: chat}
spec:
  rules: [{backend: {addresses: ["127.0.0.1:3000"]}}]
  sessionAffinity: {type: Cookie}
  auth:
    ticket: {key: "0123456789abcdef0123456789abcdef"}
    external: {url: "http://auth.example:8080/verify"}
  limits: {handshakesPerSecondPerIP: 20}
---
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: counted}
spec:
  rules: [{backend: {addresses: ["127.0.0.1:3000"]}}]
  limits: {maxConnectionsPerIP: 5, maxConnections: 100, scope: Cluster}
---
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: hashed}
spec:
  rules: [{backend: {addresses: ["127.0.0.1:3000"]}}]
  sessionAffinity: {type: Header, headerName: X-User}
"#;

#[test]
fn a_route_that_sets_nothing_gets_the_documented_defaults() {
    let loaded = load_str(ROUTES).expect("valid");
    let hashed = &loaded.table.routes[2];
    let mut plain = (*hashed.policy).clone();
    plain.affinity = Affinity::None;
    assert_documented_route_defaults(&plain);
}

#[test]
fn optional_blocks_get_their_documented_defaults() {
    let loaded = load_str(ROUTES).expect("valid");
    let chat = &loaded.table.routes[0].policy;
    let cookie = Affinity::Cookie {
        name: "wsgate-affinity".into(),
        ttl: Some(3600 * SECOND),
        same_site: SameSite::Lax,
        always_secure: false,
        path: None,
    };
    assert_eq!(
        chat.affinity, cookie,
        "cookie name, ttl 1h, SameSite Lax, Secure only on https, Path /"
    );
    let hash = Affinity::Hash {
        key: HashKey::Header("x-user".into()),
        bound: Some(1.25),
    };
    assert_eq!(
        loaded.table.routes[2].policy.affinity, hash,
        "boundedLoadFactor 1.25"
    );
    assert_eq!(
        chat.security.limits.rate,
        Some((20, 20)),
        "handshakeBurst: the rate"
    );
    let counted = loaded.table.routes[1].policy.security.limits;
    assert_eq!(
        (counted.per_ip, counted.per_route, counted.cluster),
        (Some(5), Some(100), true),
        "scope: Cluster"
    );

    let t = chat.security.ticket.as_deref().expect("ticket");
    let from = [TicketPlacement::Query, TicketPlacement::Subprotocol];
    assert_eq!(t.from, from, "ticket.from");
    assert_eq!(t.query_param, "ticket");
    assert_eq!(t.subprotocol_prefix, "ticket.");
    assert_eq!(t.audience, "default/chat", "audience: the route");
    assert!(t.single_use && !t.require_audience && !t.bind_client_ip);
    assert_eq!(
        (t.max_age, t.leeway),
        (None, 5 * SECOND),
        "maxAge off, leeway 5s"
    );
    assert_eq!(t.replay_store, None, "replay store: memory");
    let sub = (
        "sub".to_string(),
        HeaderName::from_static("x-wsgate-claim-sub"),
    );
    assert_eq!(t.claim_headers, [sub], "sub is always passed");
    assert!(!t.forward_first_message);

    let e = chat.security.external.as_deref().expect("external");
    let forwarded = [
        HeaderName::from_static("cookie"),
        HeaderName::from_static("authorization"),
    ];
    assert_eq!(
        e.forward_headers, forwarded,
        "forwardHeaders: Cookie, Authorization"
    );
    assert!(e.response_headers.is_empty());
    assert_eq!(e.timeout, 2 * SECOND, "external.timeout");
}

#[test]
fn the_proxy_gets_the_documented_listener_defaults() {
    let s = load_str(ROUTES).expect("valid").settings;
    let addr = |a: &str| a.parse::<SocketAddr>().expect("addr");
    assert_eq!(s.http_listen, addr("127.0.0.1:8080"));
    assert_eq!(s.admin_listen, addr("127.0.0.1:9090"));
    assert_eq!(s.https_listen, None);
    assert_eq!(s.shutdown_timeout, 30 * SECOND, "shutdownTimeout");
    let head = s.listener.head;
    assert_eq!(head.max_bytes, 16_384, "maxRequestHeadBytes");
    assert_eq!(head.max_headers, 100, "maxRequestHeaders");
    assert_eq!(head.read_timeout, 10 * SECOND, "headerReadTimeout");
    assert!(!s.listener.proxy_protocol && s.listener.trusted_proxies.is_empty());
}
