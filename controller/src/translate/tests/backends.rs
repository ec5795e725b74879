//! Service references resolved to ready endpoints.

use super::*;
use crate::translate::report::reason;

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
fn m9_only_slices_of_the_endpointslice_controller_count() {
    let mut objects = chat_backend("ns");
    // A slice anyone could write, claiming to belong to Service chat.
    objects.push(Object::EndpointSlice(Box::new(obj(
        "metadata: {name: forged, namespace: ns, labels: {kubernetes.io/service-name: chat, endpointslice.kubernetes.io/managed-by: someone-else}}\naddressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints: [{addresses: [192.0.2.66]}]",
    ))));
    objects.push(route("ns", "r", 1, CHAT));
    let t = index(objects).build();
    assert_eq!(
        endpoints(&t, "r"),
        Ok(addrs(&["10.0.0.1:8080", "10.0.0.2:8080"]))
    );
}
