//! Table-driven tests of translation over plain objects.

use std::net::SocketAddr;

use wsgate_core::table::Backend;

use super::report::{Report, SourceKind, SourceRef, reason};
use super::*;

pub(super) fn obj<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
    crate::yaml::from_str(yaml).expect("fixture parses")
}

/// A WebSocketRoute created `age` seconds after the epoch (older = smaller).
pub(super) fn route(ns: &str, name: &str, created: u32, spec: &str) -> Object {
    let ts = format!("2024-01-01T00:{:02}:{:02}Z", created / 60, created % 60);
    let yaml = format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: {name}, namespace: {ns}, generation: 2, creationTimestamp: \"{ts}\"}}\nspec: {spec}\n"
    );
    Object::Route(Box::new(obj(&yaml)))
}

pub(super) fn service(ns: &str, name: &str, ports: &str) -> Object {
    Object::Service(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}}}\nspec: {{ports: {ports}}}"
    ))))
}

/// An EndpointSlice of `svc`; `endpoints` is a YAML list.
pub(super) fn slice(ns: &str, svc: &str, name: &str, ports: &str, endpoints: &str) -> Object {
    Object::EndpointSlice(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}, labels: {{kubernetes.io/service-name: {svc}}}}}\naddressType: IPv4\nports: {ports}\nendpoints: {endpoints}"
    ))))
}

pub(super) fn tls_secret(ns: &str, name: &str, cert: &str) -> Object {
    Object::Secret(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}}}\ntype: kubernetes.io/tls\ndata: {{tls.crt: {cert}, tls.key: a2V5}}"
    ))))
}

/// Service `chat` (port 80 named http -> 8080) with two ready endpoints.
pub(super) fn chat_backend(ns: &str) -> Vec<Object> {
    vec![
        service(ns, "chat", "[{name: http, port: 80}]"),
        slice(
            ns,
            "chat",
            "chat-1",
            "[{name: http, port: 8080}]",
            "[{addresses: [10.0.0.1]}, {addresses: [10.0.0.2], conditions: {ready: true}}]",
        ),
    ]
}

pub(super) fn index(objects: Vec<Object>) -> Index {
    let mut index = Index::new("wsgate");
    for o in objects {
        index.apply(o);
    }
    index
}

pub(super) fn report<'a>(t: &'a Translation, kind: SourceKind, ns: &str, name: &str) -> &'a Report {
    let key = SourceRef {
        kind,
        namespace: ns.into(),
        name: name.into(),
    };
    t.reports
        .get(&key)
        .unwrap_or_else(|| panic!("no report for {key}: {:#?}", t.reports))
}

pub(super) fn endpoints(t: &Translation, route: &str) -> Result<Vec<SocketAddr>, String> {
    let r = t
        .routes
        .iter()
        .find(|r| r.id.name == route)
        .unwrap_or_else(|| {
            panic!(
                "route {route} not in table: {:?}",
                t.routes.iter().map(|r| &r.id).collect::<Vec<_>>()
            )
        });
    match &r.rules[0].backend {
        Backend::Endpoints(eps) => Ok(eps.iter().map(|e| e.addr).collect()),
        Backend::Invalid { reason } => Err(reason.clone()),
    }
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter()
        .map(|a| a.parse().expect("fixture address"))
        .collect()
}

const CHAT: &str =
    "{hostnames: [chat.example.com], rules: [{backend: {service: {name: chat, port: 80}}}]}";

#[test]
fn service_ports_resolve_to_ready_endpoints() {
    // (service ports, route port, slice ports, endpoints YAML, expected endpoints or reason)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Result<Vec<&'static str>, &'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "[{name: http, port: 80}]",
            "80",
            "[{name: http, port: 8080}]",
            "[{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]",
            Ok(vec!["10.0.0.1:8080", "10.0.0.2:8080"]),
        ),
        // Named port on the route.
        (
            "[{name: ws, port: 81}, {name: http, port: 80}]",
            "http",
            "[{name: ws, port: 9000}, {name: http, port: 8080}]",
            "[{addresses: [10.0.0.1]}]",
            Ok(vec!["10.0.0.1:8080"]),
        ),
        // Unnamed single port.
        (
            "[{port: 80}]",
            "80",
            "[{port: 3000}]",
            "[{addresses: [10.0.0.3]}]",
            Ok(vec!["10.0.0.3:3000"]),
        ),
        // Not ready and terminating endpoints get no new connections.
        (
            "[{name: http, port: 80}]",
            "80",
            "[{name: http, port: 8080}]",
            "[{addresses: [10.0.0.1], conditions: {ready: false}}, {addresses: [10.0.0.2], conditions: {ready: true, terminating: true}}, {addresses: [10.0.0.4], conditions: {ready: true}}]",
            Ok(vec!["10.0.0.4:8080"]),
        ),
        (
            "[{name: http, port: 80}]",
            "80",
            "[{name: http, port: 8080}]",
            "[{addresses: [10.0.0.1], conditions: {ready: false}}]",
            Err(reason::NO_READY_ENDPOINTS),
        ),
        (
            "[{name: http, port: 80}]",
            "81",
            "[{name: http, port: 8080}]",
            "[{addresses: [10.0.0.1]}]",
            Err(reason::PORT_NOT_FOUND),
        ),
        (
            "[{name: http, port: 80}]",
            "grpc",
            "[{name: http, port: 8080}]",
            "[{addresses: [10.0.0.1]}]",
            Err(reason::PORT_NOT_FOUND),
        ),
    ];
    for (i, (svc_ports, port, slice_ports, eps, want)) in cases.into_iter().enumerate() {
        let spec = format!("{{rules: [{{backend: {{service: {{name: chat, port: {port}}}}}}}]}}");
        let t = index(vec![
            service("ns", "chat", svc_ports),
            slice("ns", "chat", "chat-a", slice_ports, eps),
            route("ns", "r", 1, &spec),
        ])
        .build();
        let r = report(&t, SourceKind::Route, "ns", "r");
        match want {
            Ok(list) => {
                assert_eq!(endpoints(&t, "r"), Ok(addrs(&list)), "case {i}");
                assert!(r.all_true(), "case {i}: {r:?}");
            }
            Err(why) => {
                assert!(
                    endpoints(&t, "r").is_err(),
                    "case {i}: backend must be invalid (503)"
                );
                assert_eq!(r.programmed.reason, why, "case {i}: {r:?}");
                assert!(!r.programmed.status, "case {i}");
                assert!(r.accepted.status, "case {i}");
            }
        }
    }
}

#[test]
fn endpoints_merge_across_slices_and_follow_changes() {
    let mut idx = index(chat_backend("ns"));
    idx.apply(slice(
        "ns",
        "chat",
        "chat-2",
        "[{name: http, port: 8080}]",
        "[{addresses: [10.0.0.9]}]",
    ));
    idx.apply(route("ns", "r", 1, CHAT));
    assert_eq!(
        endpoints(&idx.build(), "r"),
        Ok(addrs(&["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.9:8080"]))
    );
    // A pod goes not-ready: it leaves the backend, the others stay.
    idx.apply(slice(
        "ns",
        "chat",
        "chat-1",
        "[{name: http, port: 8080}]",
        "[{addresses: [10.0.0.1], conditions: {ready: false}}, {addresses: [10.0.0.2]}]",
    ));
    assert_eq!(
        endpoints(&idx.build(), "r"),
        Ok(addrs(&["10.0.0.2:8080", "10.0.0.9:8080"]))
    );
    idx.delete(Kind::EndpointSlice, &ObjectKey::new("ns", "chat-2"));
    assert_eq!(endpoints(&idx.build(), "r"), Ok(addrs(&["10.0.0.2:8080"])));
    // A slice of another Service or namespace is not mixed in.
    idx.apply(slice(
        "other",
        "chat",
        "chat-x",
        "[{name: http, port: 8080}]",
        "[{addresses: [10.9.9.9]}]",
    ));
    assert_eq!(endpoints(&idx.build(), "r"), Ok(addrs(&["10.0.0.2:8080"])));
}

#[test]
fn missing_service_breaks_only_its_route() {
    let mut objects = chat_backend("ns");
    objects.push(route("ns", "good", 1, CHAT));
    objects.push(route(
        "ns",
        "bad",
        2,
        "{hostnames: [other.example.com], rules: [{backend: {service: {name: gone, port: 80}}}]}",
    ));
    let t = index(objects).build();
    assert_eq!(
        endpoints(&t, "good"),
        Ok(addrs(&["10.0.0.1:8080", "10.0.0.2:8080"]))
    );
    assert_eq!(
        endpoints(&t, "bad"),
        Err("service ns/gone not found".into())
    );
    let bad = report(&t, SourceKind::Route, "ns", "bad");
    assert!(bad.accepted.status);
    assert_eq!(
        (bad.resolved_refs.status, bad.resolved_refs.reason.as_str()),
        (false, reason::SERVICE_NOT_FOUND)
    );
    assert_eq!(
        (bad.programmed.status, bad.programmed.reason.as_str()),
        (false, reason::SERVICE_NOT_FOUND)
    );
    assert_eq!(bad.generation, Some(2));
    assert!(report(&t, SourceKind::Route, "ns", "good").all_true());
}

#[test]
fn conflicts_resolve_oldest_first() {
    // (routes as (name, created, hostnames, path)), expected winners, expected losers
    type R = (&'static str, u32, &'static str, &'static str);
    let cases: Vec<(Vec<R>, Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                ("new", 5, "[a.example.com]", "/"),
                ("old", 1, "[a.example.com]", "/"),
            ],
            vec!["old"],
            vec!["new"],
        ),
        // Same age: namespace/name decides, deterministically.
        (
            vec![
                ("b", 1, "[a.example.com]", "/"),
                ("a", 1, "[a.example.com]", "/"),
            ],
            vec!["a"],
            vec!["b"],
        ),
        // Different paths or hosts do not conflict.
        (
            vec![
                ("x", 1, "[a.example.com]", "/x"),
                ("y", 2, "[a.example.com]", "/y"),
                ("z", 3, "[b.example.com]", "/x"),
            ],
            vec!["x", "y", "z"],
            vec![],
        ),
        // `/chat` and `/chat/` are the same prefix.
        (
            vec![
                ("x", 1, "[a.example.com]", "/chat"),
                ("y", 2, "[a.example.com]", "/chat/"),
            ],
            vec!["x"],
            vec!["y"],
        ),
        // Wildcards: a wildcard and an exact host coexist; two equal wildcards conflict.
        (
            vec![
                ("w1", 1, "['*.example.com']", "/"),
                ("e", 2, "[a.example.com]", "/"),
                ("w2", 3, "['*.example.com']", "/"),
            ],
            vec!["w1", "e"],
            vec!["w2"],
        ),
        // Host names are case-insensitive.
        (
            vec![
                ("l", 1, "[a.example.com]", "/"),
                ("u", 2, "[A.Example.COM]", "/"),
            ],
            vec!["l"],
            vec!["u"],
        ),
        // Routes without hostnames claim every host.
        (
            vec![("any1", 1, "[]", "/"), ("any2", 2, "[]", "/")],
            vec!["any1"],
            vec!["any2"],
        ),
    ];
    for (i, (routes, winners, losers)) in cases.into_iter().enumerate() {
        let mut objects = chat_backend("ns");
        for (name, created, hosts, path) in &routes {
            let spec = format!(
                "{{hostnames: {hosts}, rules: [{{path: {{value: '{path}'}}, backend: {{service: {{name: chat, port: 80}}}}}}]}}"
            );
            objects.push(route("ns", name, *created, &spec));
        }
        let t = index(objects).build();
        let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
        assert_eq!(served, winners, "case {i}: served in precedence order");
        for loser in losers {
            let r = report(&t, SourceKind::Route, "ns", loser);
            assert_eq!(
                (r.accepted.status, r.accepted.reason.as_str()),
                (false, reason::HOSTNAME_CONFLICT),
                "case {i}"
            );
            assert!(
                r.accepted
                    .message
                    .contains("already served by WebSocketRoute ns/"),
                "case {i}: {}",
                r.accepted.message
            );
            assert!(!r.programmed.status, "case {i}");
        }
        for winner in winners {
            assert!(
                report(&t, SourceKind::Route, "ns", winner).all_true(),
                "case {i}"
            );
        }
    }
}

#[test]
fn loser_takes_over_when_the_winner_goes() {
    let mut idx = index(chat_backend("ns"));
    idx.apply(route("ns", "old", 1, CHAT));
    idx.apply(route("ns", "new", 2, CHAT));
    assert!(
        !report(&idx.build(), SourceKind::Route, "ns", "new")
            .accepted
            .status
    );
    idx.delete(Kind::Route, &ObjectKey::new("ns", "old"));
    let t = idx.build();
    assert!(report(&t, SourceKind::Route, "ns", "new").all_true());
    assert_eq!(t.routes.len(), 1);
}

#[test]
fn invalid_specs_are_refused_alone() {
    let cases = [
        (
            "{rules: [{path: {value: nope}, backend: {service: {name: chat, port: 80}}}]}",
            "spec.rules[0].path.value",
        ),
        (
            "{hostnames: ['bad host'], rules: [{backend: {service: {name: chat, port: 80}}}]}",
            "spec.hostnames[0]",
        ),
        ("{rules: []}", "spec.rules"),
        (
            "{rules: [{backend: {addresses: ['10.1.1.1:80']}}]}",
            "only for routes files",
        ),
        ("{rules: [{backend: {}}]}", "service is required"),
        (
            "{rules: [{backend: {service: {name: chat, port: 80}}}], drain: {closeCode: 1005}}",
            "spec.drain.closeCode",
        ),
    ];
    for (spec, needle) in cases {
        let mut objects = chat_backend("ns");
        objects.push(route("ns", "bad", 1, spec));
        objects.push(route("ns", "good", 2, CHAT));
        let t = index(objects).build();
        let r = report(&t, SourceKind::Route, "ns", "bad");
        assert_eq!(
            (r.accepted.status, r.accepted.reason.as_str()),
            (false, reason::INVALID_SPEC),
            "{spec}"
        );
        assert!(
            r.accepted.message.contains(needle),
            "{spec}: {}",
            r.accepted.message
        );
        let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
        assert_eq!(served, ["good"], "{spec}");
    }
}

#[test]
fn reset_replaces_a_kind_after_a_relist() {
    let mut idx = index(chat_backend("ns"));
    idx.apply(route("ns", "a", 1, CHAT));
    idx.apply(route(
        "ns",
        "b",
        2,
        "{hostnames: [b.example.com], rules: [{backend: {service: {name: chat, port: 80}}}]}",
    ));
    idx.reset(
        Kind::Route,
        None,
        vec![route(
            "ns",
            "b",
            2,
            "{hostnames: [b.example.com], rules: [{backend: {service: {name: chat, port: 80}}}]}",
        )],
    );
    let t = idx.build();
    let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
    assert_eq!(served, ["b"]);
    assert_eq!(t.reports.len(), 1, "deleted routes get no report");
}

#[test]
fn report_conditions_carry_generation() {
    let mut objects = chat_backend("ns");
    objects.push(route("ns", "r", 1, CHAT));
    let t = index(objects).build();
    let conditions = report(&t, SourceKind::Route, "ns", "r").conditions();
    let summary: Vec<(&str, &str, &str, Option<i64>)> = conditions
        .iter()
        .map(|c| {
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_str(),
                c.observed_generation,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Accepted", "True", "Accepted", Some(2)),
            ("ResolvedRefs", "True", "ResolvedRefs", Some(2)),
            ("Programmed", "True", "Programmed", Some(2)),
        ]
    );
}

#[test]
fn ten_thousand_routes_rebuild() {
    let mut idx = Index::new("wsgate");
    for n in 0..10_000u32 {
        let ns = format!("ns{}", n % 100);
        if n < 100 {
            for o in chat_backend(&ns) {
                idx.apply(o);
            }
        }
        let spec = format!(
            "{{hostnames: [h{n}.example.com], rules: [{{backend: {{service: {{name: chat, port: 80}}}}}}]}}"
        );
        idx.apply(route(&ns, &format!("r{n}"), n % 3600, &spec));
    }
    let started = std::time::Instant::now();
    let t = idx.build();
    let elapsed = started.elapsed();
    println!("rebuild of 10000 routes over 100 namespaces: {elapsed:?}");
    assert_eq!(t.routes.len(), 10_000);
    assert!(t.reports.values().all(Report::all_true));
    assert!(
        elapsed < std::time::Duration::from_secs(10),
        "rebuild took {elapsed:?}"
    );
}
