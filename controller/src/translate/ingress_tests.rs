//! Ingress, annotation and Secret translation over plain objects.

use std::collections::BTreeMap;

use serde_json::json;
use wsgate_core::table::{HostMatch, PathMatch};

use super::annotations::policy_from_annotations;
use super::report::{SourceKind, reason};
use super::tests::{chat_backend, endpoints, index, obj, report, route, tls_secret};
use super::*;

fn class(name: &str, controller: &str, default: bool) -> Object {
    Object::IngressClass(Box::new(obj(&format!(
        "metadata: {{name: {name}, annotations: {{ingressclass.kubernetes.io/is-default-class: '{default}'}}}}\nspec: {{controller: {controller}}}"
    ))))
}

fn ingress_obj(name: &str, created: u32, meta_extra: &str, spec: &str) -> Ingress {
    obj(&format!(
        "metadata: {{name: {name}, namespace: ns, generation: 3, creationTimestamp: '2024-01-01T00:00:{created:02}Z'{meta_extra}}}\nspec: {spec}"
    ))
}

fn ingress(name: &str, created: u32, meta_extra: &str, spec: &str) -> Object {
    Object::Ingress(Box::new(ingress_obj(name, created, meta_extra, spec)))
}

const SIMPLE: &str = "{ingressClassName: wsgate, rules: [{host: chat.example.com, http: {paths: [{path: /ws, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}}]}";

#[test]
fn ingress_class_selection() {
    let ours = ingress::CONTROLLER_NAME;
    // (classes, ingress class field, handled?)
    let cases: Vec<(Vec<Object>, &str, bool)> = vec![
        (
            vec![class("wsgate", ours, false)],
            "ingressClassName: wsgate,",
            true,
        ),
        (
            vec![class("wsgate", ours, false)],
            "ingressClassName: nginx,",
            false,
        ),
        (
            vec![class("wsgate", "k8s.io/ingress-nginx", false)],
            "ingressClassName: wsgate,",
            false,
        ),
        (vec![], "ingressClassName: wsgate,", false),
        (vec![class("wsgate", ours, true)], "", true),
        (vec![class("wsgate", ours, false)], "", false),
    ];
    for (i, (classes, field, handled)) in cases.into_iter().enumerate() {
        let mut idx = index(classes);
        let spec = format!(
            "{{{field} rules: [{{http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: chat, port: {{number: 80}}}}}}}}]}}}}]}}"
        );
        idx.apply(ingress("i", 1, "", &spec));
        let t = idx.build();
        assert_eq!(t.reports.len(), usize::from(handled), "case {i}");
    }
    // The pre-IngressClass annotation names the class too.
    let mut idx = index(vec![class("wsgate", ours, false)]);
    idx.apply(ingress("i", 1, ", annotations: {kubernetes.io/ingress.class: wsgate}",
        "{rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}}]}"));
    assert_eq!(idx.build().reports.len(), 1);
}

#[test]
fn rules_hosts_path_types_default_backend_and_tls() {
    let ing = ingress_obj("i", 1, "", "{ingressClassName: wsgate,
      defaultBackend: {service: {name: fallback, port: {name: http}}},
      tls: [{hosts: [a.example.com], secretName: a-tls}],
      rules: [
        {host: a.example.com, http: {paths: [
          {path: /exact, pathType: Exact, backend: {service: {name: chat, port: {number: 80}}}},
          {path: /impl, pathType: ImplementationSpecific, backend: {service: {name: chat, port: {name: http}}}}]}},
        {host: a.example.com, http: {paths: [{path: /more, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}},
        {host: b.example.com},
        {http: {paths: [{pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}}]}");
    let out = ingress::translate_ingress(&ing).expect("translates");
    let ids: Vec<&str> = out.routes.iter().map(|r| r.id.name.as_str()).collect();
    assert_eq!(
        ids,
        [
            "i/a.example.com",
            "i/b.example.com",
            "i/*",
            "i/default-backend"
        ]
    );
    let specs: Vec<&RouteSpec> = out
        .routes
        .iter()
        .map(|r| r.decoded.spec.as_ref().expect("valid"))
        .collect();
    let a = serde_json::to_value(specs[0]).expect("serializes");
    assert_eq!(a["hostnames"], json!(["a.example.com"]));
    assert_eq!(
        a["rules"],
        json!([
            {"path": {"type": "Exact", "value": "/exact"}, "backend": {"service": {"name": "chat", "port": 80}}},
            {"path": {"type": "PathPrefix", "value": "/impl"}, "backend": {"service": {"name": "chat", "port": "http"}}},
            {"path": {"type": "PathPrefix", "value": "/more"}, "backend": {"service": {"name": "chat", "port": 80}}},
        ])
    );
    assert_eq!(a["tls"]["secretName"], json!("a-tls"));
    // A host without paths goes to the default backend; no TLS section names it.
    let b = serde_json::to_value(specs[1]).expect("serializes");
    assert_eq!(
        b["rules"],
        json!([{"backend": {"service": {"name": "fallback", "port": "http"}}}])
    );
    assert!(b.get("tls").is_none());
    assert_eq!(specs[2].hostnames, Vec::<String>::new());
    assert_eq!(
        serde_json::to_value(specs[2]).expect("serializes")["rules"][0]["path"]["value"],
        json!("/")
    );
    assert_eq!(specs[3].hostnames, Vec::<String>::new());
}

#[test]
fn ingresses_that_cannot_be_served_are_refused() {
    let cases = [
        (
            "{ingressClassName: wsgate}",
            "no paths and no default backend",
        ),
        (
            "{ingressClassName: wsgate, defaultBackend: {resource: {kind: Bucket, name: b}}}",
            "resource backends",
        ),
        (
            "{ingressClassName: wsgate, rules: [{http: {paths: [{path: 'x', pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}}]}",
            "must start with /",
        ),
    ];
    for (spec, needle) in cases {
        let mut objects = chat_backend("ns");
        objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
        objects.push(ingress("i", 1, "", spec));
        let t = index(objects).build();
        let r = report(&t, SourceKind::Ingress, "ns", "i");
        assert!(!r.accepted.status, "{spec}");
        assert!(
            r.accepted.message.contains(needle),
            "{spec}: {}",
            r.accepted.message
        );
        assert!(t.routes.is_empty(), "{spec}");
    }
}

#[test]
fn nginx_and_wsgate_annotations() {
    let n = "nginx.ingress.kubernetes.io/";
    // (annotations, expected spec fields, expected ignored annotations)
    type Case = (Vec<(String, &'static str)>, serde_json::Value, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            vec![
                (format!("{n}proxy-read-timeout"), "3600"),
                (format!("{n}proxy-send-timeout"), "7200"),
            ],
            json!({"timeouts": {"idle": "7200s"}}),
            vec![],
        ),
        (
            vec![
                (format!("{n}affinity"), "cookie"),
                (format!("{n}session-cookie-name"), "route"),
                (format!("{n}session-cookie-max-age"), "172800"),
            ],
            json!({"sessionAffinity": {"type": "Cookie", "cookieName": "route", "ttl": "172800s"}}),
            vec![],
        ),
        (
            vec![(format!("{n}session-cookie-name"), "route")],
            json!({}),
            vec![format!("{n}session-cookie-name")],
        ),
        (
            vec![(format!("{n}affinity"), "balanced")],
            json!({}),
            vec![format!("{n}affinity")],
        ),
        (
            vec![(format!("{n}upstream-hash-by"), "$remote_addr")],
            json!({"sessionAffinity": {"type": "ClientIP"}}),
            vec![],
        ),
        (
            vec![(format!("{n}upstream-hash-by"), "$http_x_user")],
            json!({"sessionAffinity": {"type": "Header", "headerName": "x-user"}}),
            vec![],
        ),
        (
            vec![(format!("{n}upstream-hash-by"), "$arg_room")],
            json!({"sessionAffinity": {"type": "Query", "queryParam": "room"}}),
            vec![],
        ),
        (
            vec![(format!("{n}upstream-hash-by"), "$request_uri")],
            json!({}),
            vec![format!("{n}upstream-hash-by")],
        ),
        (
            vec![(format!("{n}limit-connections"), "10")],
            json!({"limits": {"maxConnectionsPerIP": 10}}),
            vec![],
        ),
        (
            vec![(
                format!("{n}whitelist-source-range"),
                "10.0.0.0/8, 192.168.0.0/16",
            )],
            json!({"limits": {"sourceRanges": ["10.0.0.0/8", "192.168.0.0/16"]}}),
            vec![],
        ),
        (
            vec![
                (format!("{n}ssl-redirect"), "true"),
                (format!("{n}proxy-body-size"), "8m"),
            ],
            json!({}),
            vec![format!("{n}proxy-body-size"), format!("{n}ssl-redirect")],
        ),
        // wsgate.dev/* addresses any spec field by its path and overrides nginx.
        (
            vec![
                (format!("{n}proxy-read-timeout"), "60"),
                ("wsgate.dev/timeouts.idle".into(), "2h"),
                (
                    "wsgate.dev/load-balancing".into(),
                    "{algorithm: LeastConnections}",
                ),
                ("wsgate.dev/limits.max-message-bytes".into(), "1024"),
            ],
            json!({"timeouts": {"idle": "2h"}, "loadBalancing": {"algorithm": "LeastConnections"}, "limits": {"maxMessageBytes": 1024}}),
            vec![],
        ),
        (
            vec![("wsgate.dev/rules".into(), "[]")],
            json!({}),
            vec!["wsgate.dev/rules".into()],
        ),
        (vec![("other.io/x".into(), "y")], json!({}), vec![]),
    ];
    for (annotations, fields, ignored) in cases {
        let map: BTreeMap<String, String> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let policy = policy_from_annotations(&map);
        assert_eq!(
            serde_json::Value::Object(policy.fields.clone()),
            fields,
            "{annotations:?}"
        );
        let warned: Vec<String> = policy
            .warnings
            .iter()
            .map(|w| {
                w.trim_start_matches("ignored annotation ")
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(warned, ignored, "{annotations:?}: {:?}", policy.warnings);
    }
}

#[test]
fn annotations_reach_the_compiled_route() {
    let mut objects = chat_backend("ns");
    objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
    objects.push(ingress("i", 1,
        ", annotations: {nginx.ingress.kubernetes.io/proxy-read-timeout: '3600', wsgate.dev/keepalive.ping-interval: 15s, wsgate.dev/no-such-field: x, nginx.ingress.kubernetes.io/rewrite-target: /}",
        SIMPLE));
    let t = index(objects).build();
    let route = t
        .routes
        .iter()
        .find(|r| r.id.name == "i/chat.example.com")
        .expect("served");
    assert_eq!(
        route.policy.idle_timeout,
        Some(std::time::Duration::from_secs(3600))
    );
    assert_eq!(
        route.policy.keepalive.map(|k| k.interval),
        Some(std::time::Duration::from_secs(15))
    );
    assert_eq!(
        route.hostnames[..],
        [HostMatch::Exact("chat.example.com".into())]
    );
    assert_eq!(route.rules[0].path, PathMatch::Prefix("/ws".into()));
    assert_eq!(
        endpoints(&t, "i/chat.example.com"),
        Ok(vec![
            "10.0.0.1:8080".parse().expect("addr"),
            "10.0.0.2:8080".parse().expect("addr")
        ])
    );
    let r = report(&t, SourceKind::Ingress, "ns", "i");
    assert!(r.all_true(), "{r:?}");
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("ignored annotation wsgate.dev/no-such-field")),
        "{:?}",
        r.warnings
    );
    assert!(r.warnings.iter().any(|w| w.starts_with("ignored annotation nginx.ingress.kubernetes.io/rewrite-target")), "{:?}", r.warnings);
}

#[test]
fn unenforceable_source_ranges_refuse_the_ingress() {
    let mut objects = chat_backend("ns");
    objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
    objects.push(ingress(
        "i",
        1,
        ", annotations: {nginx.ingress.kubernetes.io/whitelist-source-range: 10.0.0.0/8}",
        SIMPLE,
    ));
    let t = index(objects).build();
    let r = report(&t, SourceKind::Ingress, "ns", "i");
    assert_eq!(
        (r.accepted.status, r.accepted.reason.as_str()),
        (false, reason::UNSUPPORTED_ANNOTATION)
    );
    assert!(
        t.routes.is_empty(),
        "a restricted backend is not served unrestricted"
    );
}

#[test]
fn ingress_and_route_conflict_oldest_wins() {
    let mut objects = chat_backend("ns");
    objects.push(class("wsgate", ingress::CONTROLLER_NAME, false));
    objects.push(ingress("i", 5, "", SIMPLE));
    objects.push(route("ns", "r", 1, "{hostnames: [chat.example.com], rules: [{path: {value: /ws}, backend: {service: {name: chat, port: 80}}}]}"));
    let t = index(objects).build();
    let i = report(&t, SourceKind::Ingress, "ns", "i");
    assert_eq!(i.accepted.reason, reason::HOSTNAME_CONFLICT);
    assert!(
        i.accepted.message.contains("WebSocketRoute ns/r"),
        "{}",
        i.accepted.message
    );
    assert_eq!(t.routes.len(), 1);
    assert_eq!(t.routes[0].id.name, "r");
}

const WITH_TLS: &str = "{hostnames: [chat.example.com], tls: {secretName: chat-tls}, rules: [{backend: {service: {name: chat, port: 80}}}]}";

#[test]
fn tls_secret_missing_wrong_rotated() {
    let mut idx = index(chat_backend("ns"));
    idx.apply(route("ns", "r", 1, WITH_TLS));
    // Missing: the route answers 503 and says why.
    let t = idx.build();
    let r = report(&t, SourceKind::Route, "ns", "r");
    assert_eq!(
        (r.resolved_refs.status, r.resolved_refs.reason.as_str()),
        (false, reason::SECRET_NOT_FOUND)
    );
    assert_eq!(
        endpoints(&t, "r"),
        Err("secret ns/chat-tls not found".into())
    );
    // Present: resolved and serving.
    idx.apply(tls_secret("ns", "chat-tls", "Y2VydDE="));
    let t = idx.build();
    assert!(report(&t, SourceKind::Route, "ns", "r").all_true());
    assert!(endpoints(&t, "r").is_ok());
    let cert = |t: &Translation| {
        t.routes[0]
            .tls
            .as_ref()
            .map(|c| (c.cert_chain_pem.to_vec(), c.key_pem.to_vec()))
    };
    assert_eq!(cert(&t), Some((b"cert1".to_vec(), b"key".to_vec())));
    // Rotated: still resolved, and the new certificate is in the route.
    idx.apply(tls_secret("ns", "chat-tls", "Y2VydDI="));
    let t = idx.build();
    assert!(report(&t, SourceKind::Route, "ns", "r").all_true());
    assert_eq!(cert(&t), Some((b"cert2".to_vec(), b"key".to_vec())));
    // Wrong type.
    idx.apply(Object::Secret(Box::new(obj(
        "metadata: {name: chat-tls, namespace: ns}\ntype: Opaque\ndata: {x: eA==}",
    ))));
    let t = idx.build();
    assert_eq!(
        report(&t, SourceKind::Route, "ns", "r")
            .resolved_refs
            .reason,
        reason::INVALID_SECRET
    );
    assert!(endpoints(&t, "r").is_err());
    // Deleted again.
    idx.delete(Kind::Secret, &ObjectKey::new("ns", "chat-tls"));
    assert_eq!(
        report(&idx.build(), SourceKind::Route, "ns", "r")
            .resolved_refs
            .reason,
        reason::SECRET_NOT_FOUND
    );
}
