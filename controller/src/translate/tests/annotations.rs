//! ingress-nginx and wsgate.dev annotations, table-driven: every catalogued annotation is
//! honoured (with the spec fields it sets), irrelevant (no fields, no refusal) or refused.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::translate::annotations::nginx::{CATALOG, Verdict, verdict};
use crate::translate::annotations::policy_from_annotations;
use crate::translate::report::reason;

const N: &str = "nginx.ingress.kubernetes.io/";

fn policy(pairs: &[(&str, &str)]) -> crate::translate::annotations::Policy {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| {
            let key = if k.contains('/') {
                k.to_string()
            } else {
                format!("{N}{k}")
            };
            (key, v.to_string())
        })
        .collect();
    policy_from_annotations(&map, "ns")
}

#[test]
fn honoured_annotations_set_these_fields() {
    let cases: Vec<(Vec<(&str, &str)>, Value)> = vec![
        (
            vec![
                ("proxy-read-timeout", "3600"),
                ("proxy-send-timeout", "7200s"),
            ],
            json!({"timeouts": {"idle": "7200s", "idleCountsControlFrames": true}}),
        ),
        (
            vec![("proxy-connect-timeout", "3")],
            json!({"timeouts": {"connect": "3s"}}),
        ),
        (
            vec![
                ("affinity", "cookie"),
                ("affinity-mode", "persistent"),
                ("session-cookie-name", "srv"),
                ("session-cookie-max-age", "172800"),
                ("session-cookie-expires", "60"),
                ("session-cookie-samesite", "None"),
                ("session-cookie-secure", "true"),
                ("session-cookie-path", "/chat"),
            ],
            json!({"sessionAffinity": {"type": "Cookie", "cookieName": "srv", "ttl": "172800s", "sameSite": "None", "cookieSecure": true, "cookiePath": "/chat"}}),
        ),
        (
            vec![("affinity", "cookie"), ("session-cookie-expires", "60")],
            json!({"sessionAffinity": {"type": "Cookie", "ttl": "60s"}}),
        ),
        // Without cookie affinity nginx ignores the cookie settings too.
        (vec![("session-cookie-name", "srv")], json!({})),
        (
            vec![("upstream-hash-by", "$remote_addr")],
            json!({"sessionAffinity": {"type": "ClientIP"}}),
        ),
        (
            vec![("upstream-hash-by", "$binary_remote_addr")],
            json!({"sessionAffinity": {"type": "ClientIP"}}),
        ),
        (
            vec![("upstream-hash-by", "$http_x_user")],
            json!({"sessionAffinity": {"type": "Header", "headerName": "x-user"}}),
        ),
        (
            vec![("upstream-hash-by", "$arg_room")],
            json!({"sessionAffinity": {"type": "Query", "queryParam": "room"}}),
        ),
        (
            vec![("load-balance", "round_robin")],
            json!({"loadBalancing": {"algorithm": "RoundRobin"}}),
        ),
        (
            vec![("limit-connections", "10")],
            json!({"limits": {"maxConnectionsPerIP": 10}}),
        ),
        (
            vec![
                ("limit-rps", "5"),
                ("limit-rpm", "100"),
                ("limit-burst-multiplier", "3"),
            ],
            json!({"limits": {"requestsPerSecondPerIP": 5, "requestsPerMinutePerIP": 100, "requestBurstMultiplier": 3}}),
        ),
        (
            vec![("whitelist-source-range", "10.0.0.0/8, 192.168.0.0/16")],
            json!({"sourceRanges": {"allow": ["10.0.0.0/8", "192.168.0.0/16"]}}),
        ),
        (
            vec![("allowlist-source-range", "10.0.0.0/8")],
            json!({"sourceRanges": {"allow": ["10.0.0.0/8"]}}),
        ),
        (
            vec![("denylist-source-range", "203.0.113.0/24")],
            json!({"sourceRanges": {"deny": ["203.0.113.0/24"]}}),
        ),
        (
            vec![
                ("auth-url", "http://auth.ns.svc/check"),
                ("auth-method", "get"),
                ("auth-response-headers", "X-User, X-Groups"),
                ("auth-signin", "https://login.example.com/start"),
            ],
            json!({"auth": {"external": {"url": "http://auth.ns.svc/check", "method": "GET", "responseHeaders": ["X-User", "X-Groups"], "signinUrl": "https://login.example.com/start"}}}),
        ),
        (
            vec![
                ("enable-cors", "true"),
                (
                    "cors-allow-origin",
                    "https://a.example.com, https://b.example.com",
                ),
            ],
            json!({"origins": {"allow": ["https://a.example.com", "https://b.example.com"], "allowMissingOrigin": true}}),
        ),
        (
            vec![("enable-cors", "true"), ("cors-allow-origin", "*")],
            json!({}),
        ),
        (
            vec![
                ("enable-cors", "false"),
                ("cors-allow-origin", "https://a.example.com"),
            ],
            json!({}),
        ),
        (
            vec![("proxy-body-size", "8m")],
            json!({"limits": {"maxRequestBodyBytes": 8_388_608}}),
        ),
        (vec![("proxy-body-size", "0")], json!({})),
        (vec![("use-regex", "false")], json!({})),
        (
            vec![("enable-access-log", "false")],
            json!({"accessLog": {"enabled": false}}),
        ),
        // wsgate.dev/* addresses any spec field by its path and overrides nginx.
        (
            vec![
                ("proxy-read-timeout", "60"),
                ("wsgate.dev/timeouts.idle", "2h"),
                ("wsgate.dev/limits.max-message-bytes", "1024"),
            ],
            json!({"timeouts": {"idle": "2h", "idleCountsControlFrames": true}, "limits": {"maxMessageBytes": 1024}}),
        ),
    ];
    for (pairs, fields) in cases {
        let p = policy(&pairs);
        assert!(p.refusals.is_empty(), "{pairs:?}: {:?}", p.refusals);
        assert_eq!(Value::Object(p.fields.clone()), fields, "{pairs:?}");
    }
}

#[test]
fn redirects_backend_tls_and_aliases_are_per_host() {
    let p = policy(&[
        ("ssl-redirect", "false"),
        ("force-ssl-redirect", "true"),
        ("server-alias", "a.example.com b.example.com"),
    ]);
    assert_eq!((p.ssl_redirect, p.force_ssl_redirect), (Some(false), true));
    assert_eq!(p.aliases, ["a.example.com", "b.example.com"]);
    let verified = policy(&[
        ("backend-protocol", "HTTPS"),
        ("proxy-ssl-verify", "on"),
        ("proxy-ssl-secret", "ns/backend-ca"),
        ("proxy-ssl-name", "chat.internal"),
        ("proxy-ssl-server-name", "on"),
    ]);
    assert_eq!(
        verified.backend_tls,
        Some(json!({"caSecretRef": {"name": "backend-ca"}, "serverName": "chat.internal"}))
    );
    let unverified = policy(&[("backend-protocol", "HTTPS")]);
    assert_eq!(
        unverified.backend_tls,
        Some(json!({"insecureSkipVerify": true}))
    );
    assert_eq!(
        unverified.warnings.len(),
        1,
        "a note says the backend is not verified"
    );
    assert_eq!(policy(&[("backend-protocol", "HTTP")]).backend_tls, None);
}

#[test]
fn every_catalogued_annotation_has_its_verdict() {
    let honoured_value = |name: &str| match name {
        "affinity" => "cookie",
        "affinity-mode" => "balanced",
        "upstream-hash-by" => "$remote_addr",
        "load-balance" => "round_robin",
        "auth-url" => "http://auth.ns.svc/",
        "backend-protocol" => "HTTPS",
        "use-regex" => "false",
        "proxy-body-size" => "1m",
        "session-cookie-samesite" => "Lax",
        n if n.contains("redirect")
            || n == "enable-cors"
            || n == "enable-access-log"
            || n.contains("secure")
            || n == "proxy-ssl-verify" =>
        {
            "true"
        }
        n if n.contains("range")
            || n == "server-alias"
            || n == "proxy-ssl-name"
            || n.contains("headers")
            || n.contains("origin") =>
        {
            "10.0.0.0/8"
        }
        n if n.starts_with("auth-")
            || n.contains("path")
            || n.contains("name")
            || n.contains("secret")
            || n.contains("signin") =>
        {
            "x"
        }
        _ => "10",
    };
    for (name, want, _) in CATALOG {
        assert_eq!(verdict(name), *want, "{name}");
        let value = if *want == Verdict::Honoured {
            honoured_value(name)
        } else {
            "1"
        };
        let p = policy(&[("affinity", "cookie"), (name, value)]);
        let refused = p
            .refusals
            .iter()
            .any(|r| r.starts_with(&format!("{N}{name}:")));
        assert_eq!(
            refused,
            *want == Verdict::Refused,
            "{name}={value}: {:?}",
            p.refusals
        );
        if *want == Verdict::Irrelevant {
            let alone = policy(&[(name, value)]);
            assert!(
                alone.fields.is_empty() && alone.refusals.is_empty(),
                "{name}: {alone:?}"
            );
        }
    }
}

#[test]
fn unknown_and_unhonourable_values_refuse() {
    let cases: &[(&str, &str)] = &[
        ("no-such-annotation", "1"),
        ("canary", "true"),
        ("canary-weight", "10"),
        ("affinity", "balanced"),
        ("upstream-hash-by", "$request_uri"),
        ("load-balance", "ewma"),
        ("auth-url", "https://auth.example.com/"),
        ("backend-protocol", "GRPC"),
        ("use-regex", "true"),
        ("proxy-read-timeout", "1m"),
        ("limit-connections", "0"),
        ("wsgate.dev/rules", "[]"),
    ];
    for (name, value) in cases {
        let p = policy(&[(name, value)]);
        assert_eq!(p.refusals.len(), 1, "{name}={value}: {:?}", p.refusals);
    }
    let p = policy(&[
        ("backend-protocol", "HTTPS"),
        ("proxy-ssl-verify", "on"),
        ("proxy-ssl-secret", "other/ca"),
    ]);
    assert_eq!(
        p.refusals.len(),
        1,
        "a CA Secret of another namespace: {:?}",
        p.refusals
    );
}

#[test]
fn a_refused_or_misspelt_annotation_refuses_the_whole_ingress() {
    let cases = [
        "nginx.ingress.kubernetes.io/auth-type: basic",
        "nginx.ingress.kubernetes.io/auth-tls-verify-client: 'on'",
        "nginx.ingress.kubernetes.io/configuration-snippet: 'deny all;'",
        "wsgate.dev/origin.allow: '[https://a.example.com]'",
        "wsgate.dev/auth.tiket.key: x",
    ];
    for annotation in cases {
        let mut objects = chat_backend("ns");
        objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
        objects.push(ingress(
            "i",
            1,
            &format!(", annotations: {{{annotation}}}"),
            SIMPLE,
        ));
        let t = index(objects).build();
        let r = report(&t, SourceKind::Ingress, "ns", "i");
        assert_eq!(
            (r.accepted.status, r.accepted.reason.as_str()),
            (false, reason::UNSUPPORTED_ANNOTATION),
            "{annotation}: {r:?}"
        );
        let key = annotation.split(':').next().unwrap_or_default();
        assert!(
            r.accepted.message.contains(key),
            "{annotation}: {}",
            r.accepted.message
        );
        assert!(t.routes.is_empty(), "{annotation}: served without it");
    }
}

#[test]
fn annotations_reach_the_compiled_route() {
    let mut objects = chat_backend("ns");
    objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
    objects.push(ingress("i", 1,
        ", annotations: {nginx.ingress.kubernetes.io/proxy-read-timeout: '3600', nginx.ingress.kubernetes.io/proxy-connect-timeout: '2', nginx.ingress.kubernetes.io/proxy-buffering: 'off', wsgate.dev/keepalive.ping-interval: 15s, nginx.ingress.kubernetes.io/server-alias: alias.example.com}",
        SIMPLE));
    let t = index(objects).build();
    let route = t
        .routes
        .iter()
        .find(|r| r.id.name == "i/chat.example.com")
        .expect("served");
    let secs = std::time::Duration::from_secs;
    assert_eq!(route.policy.idle_timeout, Some(secs(3600)));
    assert_eq!(route.policy.connect_timeout, secs(2));
    assert_eq!(route.policy.keepalive.map(|k| k.interval), Some(secs(15)));
    assert_eq!(
        route.hostnames[..],
        [
            HostMatchFixture::exact("chat.example.com"),
            HostMatchFixture::exact("alias.example.com")
        ]
    );
    let r = report(&t, SourceKind::Ingress, "ns", "i");
    assert!(r.all_true() && r.warnings.is_empty(), "{r:?}");
}

#[test]
fn tls_hosts_redirect_to_https_like_ingress_nginx() {
    // (annotations, redirected?)
    let cases = [
        ("", true),
        (
            ", annotations: {nginx.ingress.kubernetes.io/ssl-redirect: 'false'}",
            false,
        ),
    ];
    for (meta, redirected) in cases {
        let mut objects = chat_backend("ns");
        objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
        let spec = "{ingressClassName: wsgate, tls: [{hosts: [chat.example.com], secretName: chat-tls}], rules: [{host: chat.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}}]}";
        objects.push(ingress("i", 1, meta, spec));
        objects.push(tls_secret("ns", "chat-tls", "Y2VydA=="));
        let t = index(objects).build();
        let route = t
            .routes
            .iter()
            .find(|r| r.id.name == "i/chat.example.com")
            .expect("route");
        assert_eq!(route.policy.redirect_http, redirected, "{meta}");
    }
}

struct HostMatchFixture;

impl HostMatchFixture {
    fn exact(h: &str) -> wsgate_core::table::HostMatch {
        wsgate_core::table::HostMatch::Exact(h.into())
    }
}
