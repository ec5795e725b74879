use super::*;
use crate::spec::{BackendSpec, PathMatchSpec, RuleSpec};

#[path = "defaults_tests.rs"]
mod defaults;
use defaults::assert_documented_route_defaults;

fn spec(path: &str, addresses: &[&str]) -> RouteSpec {
    RouteSpec {
        hostnames: vec!["chat.example.com".into(), "*.Example.com".into()],
        rules: vec![RuleSpec {
            path: Some(PathMatchSpec {
                kind: PathMatchType::PathPrefix,
                value: path.into(),
            }),
            backend: BackendSpec {
                addresses: Some(addresses.iter().map(|s| s.to_string()).collect()),
                ..BackendSpec::default()
            },
            ..RuleSpec::default()
        }],
        ..RouteSpec::default()
    }
}

fn id() -> RouteId {
    RouteId {
        namespace: "default".into(),
        name: "chat".into(),
    }
}

#[test]
fn compiles_hosts_paths_endpoints_and_defaults() {
    let route = compile_route(
        id(),
        &spec("/socket/", &["127.0.0.1:3000", "localhost:3001"]),
        &resolve_static_backend,
    )
    .expect("valid");
    assert_eq!(
        route.hostnames.as_ref(),
        &[
            HostMatch::Exact("chat.example.com".into()),
            HostMatch::Wildcard(".example.com".into())
        ]
    );
    assert_eq!(route.rules[0].path, PathMatch::Prefix("/socket".into()));
    match &route.rules[0].backend {
        Backend::Endpoints(eps) => {
            let addrs: Vec<String> = eps.iter().map(|e| e.addr.to_string()).collect();
            assert_eq!(addrs, ["127.0.0.1:3000", "127.0.0.1:3001"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_documented_route_defaults(&route.policy);
}

#[test]
fn each_invalid_field_is_named() {
    let cases: Vec<(RouteSpec, &str)> = vec![
        (
            spec("chat", &["127.0.0.1:1"]),
            "chat: spec.rules[0].path.value: must start with /",
        ),
        (
            spec("/a b", &["127.0.0.1:1"]),
            "chat: spec.rules[0].path.value: must not contain spaces",
        ),
        (
            spec("/", &["chat-backend:80"]),
            "chat: spec.rules[0].backend: addresses[0]: \"chat-backend:80\" is not an ip:port address",
        ),
        (spec("/", &["127.0.0.1:0"]), "port must not be 0"),
        (spec("/", &["127.0.0.1:1", "127.0.0.1:1"]), "listed twice"),
        (
            spec("/", &[]),
            "chat: spec.rules[0].backend: addresses must not be empty",
        ),
        (
            RouteSpec {
                hostnames: vec!["bad host".into()],
                ..spec("/", &["127.0.0.1:1"])
            },
            "chat: spec.hostnames[0]:",
        ),
        (
            RouteSpec {
                rules: vec![],
                ..spec("/", &["127.0.0.1:1"])
            },
            "chat: spec.rules: at least one rule is required",
        ),
    ];
    for (s, want) in cases {
        let err = compile_route(id(), &s, &resolve_static_backend).expect_err(want);
        assert!(
            err.to_string().contains(want),
            "{err} should contain {want}"
        );
    }
}

#[test]
fn service_backends_are_refused_in_a_routes_file() {
    let backend = BackendSpec {
        service: Some(crate::spec::ServiceRef {
            name: "chat".into(),
            port: crate::spec::ServicePort::Number(80),
        }),
        ..BackendSpec::default()
    };
    let err = resolve_static_backend(&backend, "spec.rules[0].backend").expect_err("refused");
    assert!(err.contains("controller"), "{err}");
}

#[test]
fn close_codes_must_be_sendable() {
    for (code, ok) in [
        (1000, true),
        (1001, true),
        (1005, false),
        (1006, false),
        (2999, false),
        (4000, true),
    ] {
        assert_eq!(valid_close_code(code), ok, "{code}");
    }
}
