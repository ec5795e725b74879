//! Gateway API translation, table-driven after the Gateway API conformance suite's core
//! Gateway and HTTPRoute cases (the case each test mirrors is named on it).

use super::*;
use crate::translate::gateway_reports::{GatewayReport, ParentReport};

pub(super) fn gw_class() -> Object {
    Object::GatewayClass(Box::new(obj(
        "metadata: {name: wsgate, generation: 4}\nspec: {controllerName: wsgate.dev/gateway-controller}",
    )))
}

/// Gateway `infra/gw` with `listeners` (YAML list).
pub(super) fn gateway(listeners: &str) -> Object {
    Object::Gateway(Box::new(obj(&format!(
        "metadata: {{name: gw, namespace: infra, generation: 2}}\nspec: {{gatewayClassName: wsgate, listeners: {listeners}}}"
    ))))
}

pub(super) const HTTP_SAME: &str = "[{name: http, port: 80, protocol: HTTP}]";
pub(super) const HTTP_ALL: &str =
    "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]";

/// HTTPRoute `ns/name` created at second `created`, with `spec`.
pub(super) fn http_route(ns: &str, name: &str, created: u32, spec: &str) -> Object {
    Object::HTTPRoute(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}, generation: 5, creationTimestamp: '2024-01-01T00:00:{created:02}Z'}}\nspec: {spec}"
    ))))
}

/// A route to Service `chat` port 80 through `infra/gw`.
pub(super) fn chat_route(ns: &str, extra: &str) -> Object {
    http_route(
        ns,
        "chat",
        1,
        &format!(
            "{{parentRefs: [{{name: gw, namespace: infra}}], hostnames: [chat.example.com], rules: [{{backendRefs: [{{name: chat, port: 80}}]{extra}}}]}}"
        ),
    )
}

pub(super) fn grant(ns: &str, from_kind: &str, from_ns: &str, to_kind: &str) -> Object {
    let from_group = if from_kind == "Gateway" || from_kind == "HTTPRoute" {
        "gateway.networking.k8s.io"
    } else {
        ""
    };
    Object::ReferenceGrant(Box::new(obj(&format!(
        "metadata: {{name: allow, namespace: {ns}}}\nspec: {{from: [{{group: '{from_group}', kind: {from_kind}, namespace: {from_ns}}}], to: [{{group: '', kind: {to_kind}}}]}}"
    ))))
}

pub(super) fn gw_report(t: &Translation) -> &GatewayReport {
    t.gateway
        .gateways
        .get(&ObjectKey::new("infra", "gw"))
        .unwrap_or_else(|| panic!("no Gateway report: {:#?}", t.gateway))
}

pub(super) fn parent(t: &Translation, ns: &str, name: &str) -> ParentReport {
    let r = t
        .gateway
        .routes
        .get(&ObjectKey::new(ns, name))
        .unwrap_or_else(|| panic!("no HTTPRoute report for {ns}/{name}: {:#?}", t.gateway));
    assert_eq!(
        r.generation,
        Some(5),
        "observedGeneration follows metadata.generation"
    );
    r.parents[0].clone()
}

fn with(mut objects: Vec<Object>, more: Vec<Object>) -> Index {
    objects.extend(more);
    objects.push(gw_class());
    index(objects)
}

/// GatewayClassObservedGenerationBump, GatewaySecretReferenceGrant*, GatewayInvalidTLSConfiguration,
/// GatewayInvalidRouteKind, GatewayWithAttachedRoutes: listener verdicts and attached counts.
#[test]
fn gateways_and_listeners_get_the_spec_conditions() {
    let https = |secret_ns: &str| {
        format!(
            "[{{name: https, port: 443, protocol: HTTPS, hostname: chat.example.com, tls: {{certificateRefs: [{{name: chat-tls, namespace: {secret_ns}}}]}}}}]"
        )
    };
    // (listeners, extra objects, listener condition that is false or Conflicted, reason)
    type Case = (String, Vec<Object>, Option<(&'static str, &'static str)>);
    let cases: Vec<Case> = vec![
        (HTTP_SAME.into(), vec![], None),
        (https("infra"), vec![tls_secret("infra", "chat-tls", "Y2VydA==")], None),
        (https("infra"), vec![], Some(("ResolvedRefs", "InvalidCertificateRef"))),
        (https("certs"), vec![tls_secret("certs", "chat-tls", "Y2VydA==")], Some(("ResolvedRefs", "RefNotPermitted"))),
        (
            https("certs"),
            vec![tls_secret("certs", "chat-tls", "Y2VydA=="), grant("certs", "Gateway", "infra", "Secret")],
            None,
        ),
        ("[{name: tcp, port: 9000, protocol: TCP}]".into(), vec![], Some(("Accepted", "UnsupportedProtocol"))),
        (
            "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: TCPRoute}]}}]".into(),
            vec![],
            Some(("ResolvedRefs", "InvalidRouteKinds")),
        ),
        (
            "[{name: a, port: 80, protocol: HTTP}, {name: b, port: 80, protocol: HTTPS, tls: {certificateRefs: [{name: x}]}}]".into(),
            vec![],
            Some(("Conflicted", "ProtocolConflict")),
        ),
    ];
    for (listeners, extra, want) in cases {
        let t = with(extra, vec![gateway(&listeners)]).build();
        assert_eq!(t.gateway.classes["wsgate"].1.reason, "Accepted");
        assert_eq!(t.gateway.classes["wsgate"].0, Some(4));
        let gw = gw_report(&t);
        assert_eq!(gw.generation, Some(2));
        let l = &gw.listeners[0];
        let conds = [
            ("Accepted", &l.accepted),
            ("ResolvedRefs", &l.resolved_refs),
        ];
        match want {
            None => {
                assert!(l.usable() && l.programmed.status, "{listeners}: {l:#?}");
                assert!(gw.accepted.status && gw.programmed.status, "{gw:#?}");
            }
            Some(("Conflicted", why)) => {
                assert!(
                    l.conflicted.status && l.conflicted.reason == why,
                    "{listeners}: {l:#?}"
                );
                assert!(!l.programmed.status, "{l:#?}");
            }
            Some((cond, why)) => {
                let v = conds
                    .iter()
                    .find(|(c, _)| *c == cond)
                    .map(|(_, v)| v)
                    .expect("condition");
                assert!(!v.status && v.reason == why, "{listeners}: {cond} {v:?}");
                assert!(!l.programmed.status && !gw.accepted.status, "{gw:#?}");
            }
        }
    }
    // TCPRoute only: no supported kinds at all.
    let t = with(
        vec![],
        vec![gateway(
            "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: TCPRoute}]}}]",
        )],
    )
    .build();
    assert!(gw_report(&t).listeners[0].supported_kinds.is_empty());
}

/// A Gateway of another controller's class, and its routes, get nothing from wsgate.
#[test]
fn other_classes_are_left_alone() {
    let other = Object::GatewayClass(Box::new(obj(
        "metadata: {name: wsgate}\nspec: {controllerName: example.com/other}",
    )));
    let mut idx = index(chat_backend("infra"));
    idx.apply(other);
    idx.apply(gateway(HTTP_SAME));
    idx.apply(chat_route("infra", ""));
    let t = idx.build();
    assert!(
        t.gateway.classes.is_empty()
            && t.gateway.gateways.is_empty()
            && t.gateway.routes.is_empty()
    );
    assert!(t.routes.is_empty());
}

/// HTTPRouteSimpleSameNamespace, HTTPRouteCrossNamespace, HTTPRouteInvalidCrossNamespaceParentRef,
/// HTTPRouteListenerHostnameMatching, HTTPRouteInvalidParentRefNotMatchingSectionName,
/// HTTPRouteInvalidParentRefNotMatchingListenerPort, GatewayWithAttachedRoutes.
#[test]
fn routes_attach_where_listeners_allow_them() {
    let selector = "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: chat}}}}}]";
    let ns = |labels: &str| {
        Object::Namespace(Box::new(obj(&format!(
            "metadata: {{name: apps, labels: {labels}}}"
        ))))
    };
    let route_with = |parent: &str, hosts: &str| {
        http_route(
            "apps",
            "chat",
            1,
            &format!(
                "{{parentRefs: [{parent}], hostnames: {hosts}, rules: [{{backendRefs: [{{name: chat, port: 80}}]}}]}}"
            ),
        )
    };
    let p = "{name: gw, namespace: infra}";
    let hosts = "[chat.example.com]";
    // (listeners, extra, route, Ok(served hostnames) or the Accepted reason)
    type Case = (
        &'static str,
        Vec<Object>,
        Object,
        Result<Vec<&'static str>, &'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            HTTP_ALL,
            vec![],
            route_with(p, hosts),
            Ok(vec!["chat.example.com"]),
        ),
        (
            HTTP_SAME,
            vec![],
            route_with(p, hosts),
            Err("NotAllowedByListeners"),
        ),
        (
            selector,
            vec![ns("{team: chat}")],
            route_with(p, hosts),
            Ok(vec!["chat.example.com"]),
        ),
        (
            selector,
            vec![ns("{team: games}")],
            route_with(p, hosts),
            Err("NotAllowedByListeners"),
        ),
        (
            HTTP_ALL,
            vec![],
            route_with("{name: gw, namespace: infra, sectionName: https}", hosts),
            Err("NoMatchingParent"),
        ),
        (
            HTTP_ALL,
            vec![],
            route_with("{name: gw, namespace: infra, port: 8080}", hosts),
            Err("NoMatchingParent"),
        ),
        (
            HTTP_ALL,
            vec![],
            route_with(
                "{name: gw, namespace: infra, sectionName: http, port: 80}",
                hosts,
            ),
            Ok(vec!["chat.example.com"]),
        ),
        (
            "[{name: a, port: 80, protocol: HTTP, hostname: '*.example.com', allowedRoutes: {namespaces: {from: All}}}, {name: b, port: 80, protocol: HTTP, hostname: other.example.net, allowedRoutes: {namespaces: {from: All}}}]",
            vec![],
            route_with(p, "[]"),
            Ok(vec!["*.example.com", "other.example.net"]),
        ),
        (
            "[{name: a, port: 80, protocol: HTTP, hostname: '*.example.net', allowedRoutes: {namespaces: {from: All}}}]",
            vec![],
            route_with(p, hosts),
            Err("NoMatchingListenerHostname"),
        ),
    ];
    for (i, (listeners, mut extra, route, want)) in cases.into_iter().enumerate() {
        extra.extend(chat_backend("apps"));
        extra.push(route);
        let t = with(extra, vec![gateway(listeners)]).build();
        let parent = parent(&t, "apps", "chat");
        let attached: i32 = gw_report(&t)
            .listeners
            .iter()
            .map(|l| l.attached_routes)
            .sum();
        match want {
            Ok(hosts) => {
                assert!(
                    parent.accepted.status && parent.resolved_refs.status,
                    "case {i}: {parent:#?}"
                );
                let mut served: Vec<String> = t
                    .routes
                    .iter()
                    .flat_map(|r| r.hostnames.iter())
                    .map(describe_host)
                    .collect();
                served.dedup();
                assert_eq!(served, hosts, "case {i}");
                assert_eq!(
                    attached as usize,
                    hosts.len().max(1),
                    "case {i}: attachedRoutes"
                );
            }
            Err(why) => {
                assert!(
                    !parent.accepted.status && parent.accepted.reason == why,
                    "case {i}: {parent:#?}"
                );
                assert!(
                    t.routes.is_empty(),
                    "case {i}: a refused route is not served"
                );
                assert_eq!(attached, 0, "case {i}: attachedRoutes");
            }
        }
    }
}

fn describe_host(h: &wsgate_core::table::HostMatch) -> String {
    match h {
        wsgate_core::table::HostMatch::Exact(e) => e.clone(),
        wsgate_core::table::HostMatch::Wildcard(s) => format!("*{s}"),
    }
}
