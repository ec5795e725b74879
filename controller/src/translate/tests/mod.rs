//! Table-driven tests of translation over plain objects: fixtures here, one file per concern.

mod annotations;
mod backends;
mod conflicts;
mod docs;
mod docs_gateway;
mod gateway;
mod gateway_policy;
mod gateway_routes;
mod index;
mod ingress_rules;
mod secrets;
mod tenancy;
mod wire;

use std::net::SocketAddr;

use wsgate_core::table::Backend;

use super::report::{Report, SourceKind, SourceRef};
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
        "metadata: {{name: {name}, namespace: {ns}, labels: {{kubernetes.io/service-name: {svc}, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}}}\naddressType: IPv4\nports: {ports}\nendpoints: {endpoints}"
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

/// An index of `objects` that accepts catch-all and wildcard routes from every namespace.
pub(super) fn index(objects: Vec<Object>) -> Index {
    let mut index = Index::new("wsgate")
        .with_tenancy(crate::translate::tenancy::Tenancy::allowing(&["*".into()]));
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
        Backend::Misconfigured { reason } => Err(format!("500: {reason}")),
    }
}

pub(super) fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter()
        .map(|a| a.parse().expect("fixture address"))
        .collect()
}

pub(super) const CHAT: &str =
    "{hostnames: [chat.example.com], rules: [{backend: {service: {name: chat, port: 80}}}]}";

pub(super) fn class(name: &str, controller: &str, default: bool) -> Object {
    Object::IngressClass(Box::new(obj(&format!(
        "metadata: {{name: {name}, annotations: {{ingressclass.kubernetes.io/is-default-class: '{default}'}}}}\nspec: {{controller: {controller}}}"
    ))))
}

pub(super) fn ingress_obj(name: &str, created: u32, meta_extra: &str, spec: &str) -> Ingress {
    obj(&format!(
        "metadata: {{name: {name}, namespace: ns, generation: 3, creationTimestamp: '2024-01-01T00:00:{created:02}Z'{meta_extra}}}\nspec: {spec}"
    ))
}

pub(super) fn ingress(name: &str, created: u32, meta_extra: &str, spec: &str) -> Object {
    Object::Ingress(Box::new(ingress_obj(name, created, meta_extra, spec)))
}

pub(super) const SIMPLE: &str = "{ingressClassName: wsgate, rules: [{host: chat.example.com, http: {paths: [{path: /ws, pathType: Prefix, backend: {service: {name: chat, port: {number: 80}}}}]}}]}";

pub(super) const WITH_TLS: &str = "{hostnames: [chat.example.com], tls: {secretName: chat-tls}, rules: [{backend: {service: {name: chat, port: 80}}}]}";
