use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::config::load_in;
use crate::table::{RefusedRoute, ticket};

/// A scratch directory with the example certificate files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("wsgate-wire-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("certs")).expect("mkdir");
        let files: [(&str, &[u8]); 3] = [
            (
                "certs/tls.crt",
                include_bytes!("../cert/testdata/rsa-chain.crt"),
            ),
            ("certs/tls.key", include_bytes!("../cert/testdata/rsa.key")),
            ("certs/ca.crt", include_bytes!("../cert/testdata/ca.crt")),
        ];
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).expect("write fixture");
        }
        Dir(dir)
    }

    fn load(&self, text: &str) -> RouteTable {
        load_in(text, &self.0).0.expect("valid routes").table
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A route with every part of a policy set: conditions, filters, backend TLS, affinity,
/// Origin, ticket (HS256 and ES256 keys), external auth, limits, source ranges.
const EVERYTHING: &str = r#"
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: everything, namespace: team-a}
spec:
  hostnames: [chat.example.com, "*.rooms.example.com"]
  tls: {certFile: certs/tls.crt, keyFile: certs/tls.key, minVersion: "1.3"}
  rules:
    - path: {type: PathPrefix, value: /live}
      method: GET
      headers: [{name: X-Version, value: two}]
      queryParams: [{name: room, value: "a b"}]
      filters:
        requestHeaderModifier: {set: [{name: x-env, value: prod}], add: [{name: x-a, value: "é"}], remove: [x-debug]}
        responseHeaderModifier: {add: [{name: x-served-by, value: wsgate}]}
        urlRewrite: {hostname: backend.internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
      backend:
        addresses: ["127.0.0.1:9001", "[::1]:9002"]
        tls: {caFile: certs/ca.crt, serverName: backend.internal}
    - path: {type: PathPrefix, value: /old}
      filters:
        requestRedirect: {scheme: https, hostname: new.example.com, statusCode: 301}
      backend: {addresses: ["127.0.0.1:9001"]}
  loadBalancing: {algorithm: RoundRobin, slowStart: 30s}
  sessionAffinity: {type: Cookie, cookieName: sticky, ttl: 90m, sameSite: Strict}
  timeouts: {connect: 2s, idle: 10m, handshake: 3s}
  keepalive: {pingInterval: 20s, pongTimeout: 5s}
  limits:
    maxConnectionsPerIP: 10
    maxConnections: 1000
    handshakesPerSecondPerIP: 5
    requestsPerMinutePerIP: 100
    maxRequestBodyBytes: 65536
  origins: {allow: ["https://app.example.com", "https://*.example.org"], sameHost: true}
  auth:
    ticket:
      key: "0123456789abcdef0123456789abcdef"
      claimHeaders: [room]
      maxAge: 1m
      bindClientIp: true
    external: {url: "http://auth.example:8080/verify?x=1", method: POST, responseHeaders: [x-user]}
  drain: {closeCode: 1012, period: 45s}
  sourceRanges: {allow: ["10.0.0.0/8", "fd00::/8"], deny: ["10.9.0.0/16"]}
---
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: hashed}
spec:
  rules: [{backend: {addresses: ["127.0.0.1:3000"]}}]
  sessionAffinity: {type: Header, headerName: X-User, boundedLoadFactor: 1.1}
  auth:
    ticket:
      algorithm: ES256
      publicKey: |
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEu3rIxMYrBuszN155ZuNVqgD2F9iH
        RTm4VLy9yy38GfaIcauSpcTy+yVNUs69ssbhliXrvlDWwxvd389+UMv1+g==
        -----END PUBLIC KEY-----
  limits: {requestsPerSecondPerIP: 3}
"#;

fn round_trip(table: &RouteTable) -> RouteTable {
    let bytes = encode(table).expect("encodes");
    assert!(!bytes.contains(&b'\n'), "one line per table");
    decode(&bytes).expect("decodes")
}

#[test]
fn example_routes_files_round_trip() {
    let dir = Dir::new("examples");
    for text in [
        include_str!("../../../examples/routes.yaml"),
        include_str!("../../../examples/routes-tls.yaml"),
    ] {
        let table = RouteTable {
            version: 7,
            ..dir.load(text)
        };
        assert_eq!(round_trip(&table), table);
    }
}

#[test]
fn a_route_with_every_policy_round_trips_with_its_keys_and_certificate() {
    let dir = Dir::new("everything");
    let table = RouteTable {
        version: 3,
        refused: Arc::from(vec![RefusedRoute {
            source: "WebSocketRoute team-b/x".into(),
            reason: "HostnameConflict".into(),
            message: "chat.example.com is team-a's".into(),
        }]),
        ..dir.load(EVERYTHING)
    };
    let route = &table.routes[0];
    assert!(route.tls.is_some() && route.policy.security.ticket.is_some());
    assert!(table.routes[1].policy.security.ticket.is_some());
    let back = round_trip(&table);
    assert_eq!(back, table);
    // The keys were rebuilt from the material: a ticket signed with it verifies.
    let ticket = back.routes[0]
        .policy
        .security
        .ticket
        .as_deref()
        .expect("ticket");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = serde_json::json!({"exp": now + 60, "iat": now, "ip": "10.1.2.3", "jti": "j1"});
    let key = jsonwebtoken::EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
    let token =
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("signs");
    let client = "10.1.2.3".parse().expect("ip");
    let verified = ticket.verify(&token, client, now);
    assert!(verified.is_ok(), "{:?}", verified.err());
    let forged = jsonwebtoken::EncodingKey::from_secret(b"another key of 32 bytes, really!");
    let forged =
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &forged).expect("signs");
    assert_eq!(
        ticket.verify(&forged, client, now).err(),
        Some(ticket::TicketRefusal::BadSignature)
    );
}

#[test]
fn equal_policies_are_shared_again_after_decoding() {
    let table = crate::config::load_str(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: a}\nspec:\n  rules: [{backend: {addresses: [\"127.0.0.1:1\"]}}]\n---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: b}\nspec:\n  rules: [{backend: {addresses: [\"127.0.0.1:2\"]}}]\n",
    )
    .expect("valid")
    .table;
    let back = round_trip(&table);
    assert!(Arc::ptr_eq(&back.routes[0].policy, &back.routes[1].policy));
}

#[test]
fn a_table_with_bad_material_is_refused_naming_the_field() {
    let dir = Dir::new("bad");
    let table = dir.load(EVERYTHING);
    let text = String::from_utf8(encode(&table).expect("encodes")).expect("utf-8");
    let cases = [
        // A ticket secret under 16 bytes (base64 of "short").
        (
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "c2hvcnQ=",
            "16 bytes",
        ),
        ("\"x-env\"", "\"x env\"", "header name"),
        ("\"10.9.0.0/16\"", "\"10.9.0.0/99\"", "prefix length"),
    ];
    for (good, bad, why) in cases {
        assert!(text.contains(good), "fixture holds {good}");
        let err = decode(text.replacen(good, bad, 1).as_bytes())
            .expect_err(why)
            .to_string();
        assert!(err.contains(why) && err.contains("routes[0]"), "{err}");
    }
    assert!(decode(b"{\"version\":1}").is_err(), "missing fields");
    assert!(
        decode(&[text.as_bytes(), b"{}"].concat()).is_err(),
        "trailing data"
    );
}
