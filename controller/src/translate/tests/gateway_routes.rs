//! HTTPRoute rules: backends, ReferenceGrants, weights, filters, timeouts and what wsgate
//! refuses, after the Gateway API conformance suite's core HTTPRoute cases.

use std::time::Duration;

use super::gateway::{HTTP_ALL, chat_route, gateway, grant, gw_class, http_route, parent};
use super::*;

fn idx(mut objects: Vec<Object>) -> Index {
    objects.push(gw_class());
    objects.push(gateway(HTTP_ALL));
    index(objects)
}

/// HTTPRouteInvalidNonExistentBackendRef, HTTPRouteInvalidBackendRefUnknownKind,
/// HTTPRouteInvalidCrossNamespaceBackendRef, HTTPRouteReferenceGrant, HTTPRouteSimpleSameNamespace.
#[test]
fn backend_refs_resolve_or_say_why() {
    let to_web = "{parentRefs: [{name: gw, namespace: infra}], rules: [{backendRefs: [{name: chat, namespace: web, port: 80}]}]}";
    let unknown_kind = "{parentRefs: [{name: gw, namespace: infra}], rules: [{backendRefs: [{group: example.com, kind: Bucket, name: chat, port: 80}]}]}";
    // (objects, ResolvedRefs reason or None, endpoints or the 503 reason fragment)
    type Case = (
        Vec<Object>,
        Option<&'static str>,
        Result<Vec<&'static str>, &'static str>,
    );
    let mut with_grant = chat_backend("web");
    with_grant.push(http_route("apps", "chat", 1, to_web));
    with_grant.push(grant("web", "HTTPRoute", "apps", "Service"));
    let mut wrong_grant = chat_backend("web");
    wrong_grant.push(http_route("apps", "chat", 1, to_web));
    wrong_grant.push(grant("web", "HTTPRoute", "other", "Service"));
    let cases: Vec<Case> = vec![
        (
            [chat_backend("apps"), vec![chat_route("apps", "")]].concat(),
            None,
            Ok(vec!["10.0.0.1:8080", "10.0.0.2:8080"]),
        ),
        (
            vec![chat_route("apps", "")],
            Some("BackendNotFound"),
            Err("not found"),
        ),
        (
            [
                chat_backend("web"),
                vec![http_route("apps", "chat", 1, to_web)],
            ]
            .concat(),
            Some("RefNotPermitted"),
            Err("ReferenceGrant"),
        ),
        (wrong_grant, Some("RefNotPermitted"), Err("ReferenceGrant")),
        (with_grant, None, Ok(vec!["10.0.0.1:8080", "10.0.0.2:8080"])),
        (
            [
                chat_backend("apps"),
                vec![http_route("apps", "chat", 1, unknown_kind)],
            ]
            .concat(),
            Some("InvalidKind"),
            // The spec's 500 for a backendRef of the wrong kind.
            Err("500: the rule has no usable backend"),
        ),
    ];
    for (i, (objects, refs, want)) in cases.into_iter().enumerate() {
        let t = idx(objects).build();
        let p = parent(&t, "apps", "chat");
        assert!(
            p.accepted.status,
            "case {i}: a route with bad refs is still accepted: {p:?}"
        );
        match refs {
            None => assert!(p.resolved_refs.status, "case {i}: {p:?}"),
            Some(why) => assert!(
                !p.resolved_refs.status && p.resolved_refs.reason == why,
                "case {i}: {p:?}"
            ),
        }
        match (endpoints(&t, "chat"), want) {
            (Ok(got), Ok(want)) => assert_eq!(got, addrs(&want), "case {i}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "case {i}: {got}"),
            (got, want) => panic!("case {i}: got {got:?}, want {want:?}"),
        }
    }
}

/// HTTPRouteWeight: shares follow the weights, whatever the endpoint counts.
#[test]
fn weights_split_traffic_between_services() {
    let mut objects = chat_backend("apps");
    objects.push(service("apps", "canary", "[{name: http, port: 80}]"));
    objects.push(slice(
        "apps",
        "canary",
        "canary-1",
        "[{name: http, port: 8080}]",
        "[{addresses: [10.0.1.1]}]",
    ));
    objects.push(http_route(
        "apps",
        "chat",
        1,
        "{parentRefs: [{name: gw, namespace: infra}], rules: [{backendRefs: [{name: chat, port: 80, weight: 80}, {name: canary, port: 80, weight: 20}]}]}",
    ));
    let t = idx(objects).build();
    let Backend::Endpoints(eps) = &t.routes[0].rules[0].backend else {
        panic!("{:?}", t.routes[0].rules[0].backend)
    };
    let total: u32 = eps.iter().map(|e| e.weight).sum();
    let canary: u32 = eps
        .iter()
        .filter(|e| e.addr.ip().to_string() == "10.0.1.1")
        .map(|e| e.weight)
        .sum();
    assert_eq!(canary * 100 / total, 20, "{eps:?}");
}

/// HTTPRouteMatching, HTTPRouteHeaderMatching, HTTPRouteQueryParamMatching,
/// HTTPRouteMethodMatching, HTTPRouteRequestHeaderModifier, HTTPRouteResponseHeaderModifier,
/// HTTPRouteRedirect*, HTTPRouteRewritePath, HTTPRouteRewriteHost: matches become table rules
/// and filters table data; one rule per match.
#[test]
fn matches_and_filters_reach_the_table() {
    let rules = "[{matches: [{path: {type: Exact, value: /one}}, {path: {type: PathPrefix, value: /two}, headers: [{name: version, value: two}], queryParams: [{name: animal, value: whale}], method: POST}], filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-a, value: b}]}}, {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [server]}}, {type: URLRewrite, urlRewrite: {hostname: internal.example.com}}], backendRefs: [{name: chat, port: 80}]}, {matches: [{path: {value: /old}}], filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]";
    let mut objects = chat_backend("apps");
    objects.push(http_route(
        "apps",
        "chat",
        1,
        &format!("{{parentRefs: [{{name: gw, namespace: infra}}], rules: {rules}}}"),
    ));
    let t = idx(objects).build();
    assert!(parent(&t, "apps", "chat").accepted.status);
    assert_eq!(t.routes.len(), 2, "one table route per HTTPRoute rule");
    let first = &t.routes[0];
    assert_eq!(first.rules.len(), 2, "one table rule per match");
    let second = &first.rules[1];
    assert_eq!(
        second.conditions.method.as_ref().map(|m| m.as_str()),
        Some("POST")
    );
    assert_eq!(second.conditions.headers.len(), 1);
    assert_eq!(
        second.conditions.query,
        vec![("animal".to_string(), "whale".to_string())]
    );
    assert_eq!(second.filters.request_headers.set.len(), 1);
    assert_eq!(second.filters.response_headers.remove.len(), 1);
    assert!(second.filters.rewrite.hostname.is_some());
    let redirect = t.routes[1].rules[0]
        .filters
        .redirect
        .as_ref()
        .expect("redirect");
    assert_eq!(
        (redirect.status, redirect.scheme.as_deref()),
        (301, Some("https"))
    );
}

/// What wsgate cannot do is refused by name (UnsupportedValue), never silently accepted.
#[test]
fn unsupported_features_are_refused_with_unsupported_value() {
    let cases = [
        (
            "{matches: [{path: {type: RegularExpression, value: '/a.*'}}]",
            "path.type",
        ),
        (
            "{matches: [{headers: [{type: RegularExpression, name: v, value: '.*'}]}]",
            "headers[0].type",
        ),
        (
            "{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: chat, port: 80}}}]",
            "RequestMirror",
        ),
        (
            "{filters: [{type: ExtensionRef, extensionRef: {group: x, kind: y, name: z}}]",
            "ExtensionRef",
        ),
        (
            "{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /x}, unknownField: 1}}]",
            "unknownField",
        ),
    ];
    for (rule, field) in cases {
        let mut objects = chat_backend("apps");
        let spec = format!(
            "{{parentRefs: [{{name: gw, namespace: infra}}], rules: [{rule}, backendRefs: [{{name: chat, port: 80}}]}}]}}"
        );
        objects.push(http_route("apps", "chat", 1, &spec));
        let t = idx(objects).build();
        let p = parent(&t, "apps", "chat");
        assert!(
            !p.accepted.status && p.accepted.reason == "UnsupportedValue",
            "{rule}: {p:?}"
        );
        assert!(
            p.accepted.message.contains(field),
            "{rule}: {}",
            p.accepted.message
        );
        assert!(t.routes.is_empty(), "{rule}: not served");
    }
}

/// HTTPRouteRequestTimeout: the timeout bounds the exchange up to the response head only.
#[test]
fn timeouts_bound_the_exchange_up_to_the_response_head() {
    let mut objects = chat_backend("apps");
    objects.push(chat_route(
        "apps",
        ", timeouts: {request: 3s, backendRequest: 2s}",
    ));
    let t = idx(objects).build();
    let policy = &t.routes[0].policy;
    assert_eq!(policy.handshake_timeout, Duration::from_secs(2));
    assert_eq!(policy.request_timeout, Duration::from_secs(2));
    assert_eq!(
        policy.idle_timeout,
        Some(Duration::from_secs(3600)),
        "never the WebSocket's life"
    );
}

/// HTTPRouteMatchingAcrossRoutes: two routes on one host and path are both admitted (the
/// older first), not refused as conflicts as two WebSocketRoutes would be.
#[test]
fn routes_sharing_a_host_and_path_are_ordered_not_refused() {
    let mut objects = chat_backend("apps");
    let spec = |header: &str| {
        format!(
            "{{parentRefs: [{{name: gw, namespace: infra}}], hostnames: [chat.example.com], rules: [{{matches: [{{path: {{value: /}}{header}}}], backendRefs: [{{name: chat, port: 80}}]}}]}}"
        )
    };
    objects.push(http_route(
        "apps",
        "newer",
        9,
        &spec(", headers: [{name: v, value: two}]"),
    ));
    objects.push(http_route("apps", "older", 1, &spec("")));
    let t = idx(objects).build();
    for name in ["newer", "older"] {
        assert!(parent(&t, "apps", name).accepted.status, "{name}");
    }
    let names: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
    assert_eq!(names, ["older", "newer"], "table order is creation order");
}

/// HTTPRouteObservedGenerationBump: a changed route is reported at its new generation.
#[test]
fn status_follows_the_generation() {
    let mut idx = idx(chat_backend("apps"));
    idx.apply(chat_route("apps", ""));
    let Some(Object::HTTPRoute(mut r)) = Some(chat_route("apps", "")) else {
        unreachable!()
    };
    r.metadata.generation = Some(6);
    idx.apply(Object::HTTPRoute(r));
    let t = idx.build();
    let report = &t.gateway.routes[&ObjectKey::new("apps", "chat")];
    assert_eq!(report.generation, Some(6));
}

/// HTTPRouteHTTPSListener, HTTPRouteListenerHostnameMatching: a route is bound to the
/// listeners it attached to. One of an HTTPS listener is matched over TLS only (in clear it
/// answers the 308 to https, the 403 to `ws://`); one of an HTTP listener in clear only.
#[test]
fn routes_are_bound_to_the_listeners_they_attached_to() {
    use wsgate_core::table::Listeners;
    let listeners = "[{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: chat-tls}]}, allowedRoutes: {namespaces: {from: All}}}, {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]";
    let cases: [(&str, &[Listeners]); 3] = [
        (", sectionName: https", &[Listeners::Tls]),
        (", sectionName: http", &[Listeners::Plaintext]),
        ("", &[Listeners::Tls, Listeners::Plaintext]),
    ];
    for (section, want) in cases {
        let mut objects = chat_backend("apps");
        objects.push(gw_class());
        objects.push(gateway(listeners));
        objects.push(tls_secret("infra", "chat-tls", "Y2VydA=="));
        objects.push(http_route(
            "apps",
            "chat",
            1,
            &format!("{{parentRefs: [{{name: gw, namespace: infra{section}}}], hostnames: [chat.example.com], rules: [{{backendRefs: [{{name: chat, port: 80}}]}}]}}"),
        ));
        let t = index(objects).build();
        let got: Vec<Listeners> = t.routes.iter().map(|r| r.policy.listeners).collect();
        assert_eq!(got, want, "{section}");
        for r in &t.routes {
            let tls = r.policy.listeners == Listeners::Tls;
            assert_eq!(r.policy.redirect_http, tls, "{section}");
            assert!(
                !r.policy.redirect_upgrades,
                "ws:// gets the 403, not a redirect"
            );
        }
    }
}
