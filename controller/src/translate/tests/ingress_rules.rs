//! Ingress objects of our class: selection, rules, hosts, TLS, conflicts.

use wsgate_core::spec::RouteSpec;

use serde_json::json;

use super::*;
use crate::translate::report::reason;

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
        Err("secret ns/chat-tls of type kubernetes.io/tls not found".into())
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
