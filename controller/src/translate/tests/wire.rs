//! Tables built from cluster objects cross the wire to a proxy unchanged: the README's
//! Gateway API quick start, the example ingress-nginx Ingress and a WebSocketRoute with a
//! certificate and a ticket key from Secrets.

use std::sync::Arc;

use wsgate_core::table::RouteTable;
use wsgate_core::table::wire::{decode, encode};

use super::docs_gateway::{objects, yaml_after};
use super::*;

const INGRESS: &str = include_str!("../../../../manifests/examples/ingress-nginx-annotations.yaml");

fn secret(ns: &str, name: &str, data: &str) -> Object {
    Object::LabelledSecret(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}, labels: {{wsgate.dev/secret: 'true'}}}}\ntype: Opaque\ndata: {data}"
    ))))
}

fn backend(ns: &str, name: &str, port: u16) -> [Object; 2] {
    let ports = format!("[{{name: ws, port: {port}}}]");
    [
        service(ns, name, &ports),
        slice(
            ns,
            name,
            &format!("{name}-1"),
            &ports,
            "[{addresses: [10.0.0.1]}]",
        ),
    ]
}

#[test]
fn translated_tables_round_trip_with_certificates_and_ticket_keys() {
    let mut all = objects(yaml_after("## Gateway API"));
    all.extend(backend("default", "chat", 3000));
    all.push(tls_secret("default", "chat-tls", "Y2VydA=="));
    all.push(class("wsgate", "wsgate.dev/ingress-controller", false));
    all.push(Object::Ingress(Box::new(obj(INGRESS))));
    all.extend(backend("chat", "chat", 3000));
    all.push(tls_secret("chat", "realtime-tls", "Y2VydA=="));
    all.extend(backend("ns", "chat", 80));
    all.push(route(
        "ns",
        "tickets",
        1,
        "{hostnames: [t.example.com], tls: {secretName: t-tls}, rules: [{backend: {service: {name: chat, port: 80}}}], auth: {ticket: {secretRef: {name: key, key: signing}}}}",
    ));
    all.push(tls_secret("ns", "t-tls", "Y2VydA=="));
    // base64 of "a-long-enough-hs256-signing-key"
    all.push(secret(
        "ns",
        "key",
        "{signing: YS1sb25nLWVub3VnaC1oczI1Ni1zaWduaW5nLWtleQ==}",
    ));
    let t = index(all).build();
    let ids: Vec<String> = t.routes.iter().map(|r| r.id.to_string()).collect();
    assert!(
        ids.len() >= 3,
        "gateway, ingress and route all served: {ids:?}"
    );
    assert!(t.routes.iter().all(|r| r.tls.is_some()));
    assert!(t.routes.iter().any(|r| r.policy.security.ticket.is_some()));
    let table = RouteTable {
        version: 1,
        routes: Arc::from(t.routes),
        refused: Arc::default(),
    };
    let back = decode(&encode(&table).expect("encodes")).expect("decodes");
    assert_eq!(back, table);
}
