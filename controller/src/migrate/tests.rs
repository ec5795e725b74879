//! Realistic ingress-nginx Ingresses of WebSocket apps, as users write them: every annotation
//! gets a verdict, and the output is what `wsgate validate` accepts.

use std::path::Path;

use super::*;
use crate::validate::validate_documents;

/// A Socket.IO chat behind ingress-nginx: long timeouts, cookie affinity, an allow-list,
/// CORS, a body limit, TLS with cert-manager, and an nginx snippet.
const CHAT: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: chat
  namespace: apps
  annotations:
    kubernetes.io/ingress.class: nginx
    cert-manager.io/cluster-issuer: letsencrypt
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"
    nginx.ingress.kubernetes.io/proxy-send-timeout: "3600"
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-name: route
    nginx.ingress.kubernetes.io/session-cookie-max-age: "172800"
    nginx.ingress.kubernetes.io/whitelist-source-range: 10.0.0.0/8,192.168.0.0/16
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: https://chat.example.com
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
    nginx.ingress.kubernetes.io/proxy-buffering: "off"
    nginx.ingress.kubernetes.io/configuration-snippet: |
      more_set_headers "X-Frame-Options: DENY";
spec:
  tls:
    - hosts: [chat.example.com]
      secretName: chat-tls
  rules:
    - host: chat.example.com
      http:
        paths:
          - path: /socket.io
            pathType: Prefix
            backend: {service: {name: chat, port: {number: 3000}}}
"#;

/// A game server: rooms hashed by query parameter, per-IP connection limit, external auth,
/// two hosts, and a load-balance value wsgate does not have.
const GAME: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: game
  namespace: games
  annotations:
    nginx.ingress.kubernetes.io/upstream-hash-by: $arg_room
    nginx.ingress.kubernetes.io/limit-connections: "20"
    nginx.ingress.kubernetes.io/auth-url: http://auth.auth.svc.cluster.local/verify
    nginx.ingress.kubernetes.io/load-balance: ewma
    nginx.ingress.kubernetes.io/ssl-redirect: "false"
spec:
  ingressClassName: nginx
  rules:
    - host: play.example.com
      http:
        paths:
          - {path: /ws, pathType: Prefix, backend: {service: {name: game, port: {name: ws}}}}
    - host: eu.play.example.com
      http:
        paths:
          - {path: /ws, pathType: Prefix, backend: {service: {name: game, port: {name: ws}}}}
"#;

const PLAIN: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: echo}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}
"#;

fn outcome(m: &Migration, annotation: &str) -> (Outcome, String) {
    let f = m
        .findings
        .iter()
        .find(|f| f.annotation.ends_with(annotation))
        .unwrap_or_else(|| panic!("no finding for {annotation}: {:#?}", m.findings));
    (f.outcome, f.note.clone())
}

fn valid(yaml: &str) -> usize {
    let v = validate_documents(yaml, Path::new("."));
    assert!(v.errors.is_empty(), "{:?}\n{yaml}", v.errors);
    v.checked
}

#[test]
fn a_socketio_chat_ingress_keeps_its_websocket_settings() {
    let m = migrate(CHAT, &Form::Routes).expect("migrates");
    assert_eq!((m.ingresses, m.skipped), (1, 0));
    assert_eq!(valid(&m.yaml), 1, "one WebSocketRoute");
    for (annotation, want) in [
        ("/proxy-read-timeout", Outcome::Mapped),
        ("/affinity", Outcome::Mapped),
        ("/session-cookie-name", Outcome::Mapped),
        ("/whitelist-source-range", Outcome::Mapped),
        ("/cors-allow-origin", Outcome::Mapped),
        ("/proxy-body-size", Outcome::Mapped),
        ("kubernetes.io/ingress.class", Outcome::Mapped),
        ("/proxy-buffering", Outcome::NoEffect),
        ("cert-manager.io/cluster-issuer", Outcome::NotMapped),
        ("/configuration-snippet", Outcome::NotMapped),
    ] {
        assert_eq!(outcome(&m, annotation).0, want, "{annotation}");
    }
    assert!(m.loses_something(), "the snippet is lost, and said to be");
    let route: crate::crd::WebSocketRoute =
        crate::yaml::from_str(m.yaml.split("---\n").nth(1).expect("a route document"))
            .expect("a WebSocketRoute");
    assert_eq!(route.metadata.name.as_deref(), Some("chat"));
    assert_eq!(route.metadata.namespace.as_deref(), Some("apps"));
    let spec = &route.spec.route;
    let timeouts = spec.timeouts.clone().expect("timeouts");
    assert_eq!(timeouts.idle.map(|d| d.0.as_secs()), Some(3600));
    assert_eq!(
        timeouts.idle_counts_control_frames,
        Some(true),
        "pings count, as in nginx"
    );
    assert_eq!(
        spec.session_affinity
            .as_ref()
            .and_then(|a| a.cookie_name.as_deref()),
        Some("route")
    );
    assert_eq!(
        spec.source_ranges.as_ref().map(|s| s.allow.clone()),
        Some(vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()])
    );
    assert_eq!(
        spec.origins.as_ref().map(|o| o.allow.clone()),
        Some(vec!["https://chat.example.com".into()])
    );
    assert_eq!(
        spec.limits.as_ref().and_then(|l| l.max_request_body_bytes),
        Some(8 * 1024 * 1024)
    );
    assert_eq!(
        spec.tls.as_ref().and_then(|t| t.secret_name.as_deref()),
        Some("chat-tls")
    );
    assert!(
        m.yaml.contains("#   NOT MAPPED      nginx.ingress.kubernetes.io/configuration-snippet: nginx configuration"),
        "{}",
        m.yaml
    );
}

#[test]
fn a_refused_value_is_set_aside_and_named_while_the_rest_converts() {
    let m = migrate(GAME, &Form::Routes).expect("migrates");
    assert_eq!(valid(&m.yaml), 2, "one WebSocketRoute per host");
    let (lb, why) = outcome(&m, "/load-balance");
    assert_eq!(lb, Outcome::NotMapped);
    assert!(why.contains("round_robin"), "{why}");
    for annotation in [
        "/upstream-hash-by",
        "/limit-connections",
        "/auth-url",
        "/ssl-redirect",
    ] {
        assert_eq!(outcome(&m, annotation).0, Outcome::Mapped, "{annotation}");
    }
    for name in ["game-play-example-com", "game-eu-play-example-com"] {
        assert!(m.yaml.contains(&format!("name: {name}\n")), "{}", m.yaml);
    }
    assert!(
        m.yaml
            .contains("url: http://auth.auth.svc.cluster.local/verify")
    );
    assert!(m.yaml.contains("maxConnectionsPerIP: 20"));
}

#[test]
fn an_ingress_without_annotations_loses_nothing_and_other_kinds_are_skipped() {
    let text = format!("{PLAIN}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: echo}}\n");
    let m = migrate(&text, &Form::Routes).expect("migrates");
    assert_eq!((m.ingresses, m.skipped), (1, 1));
    assert!(!m.loses_something(), "{:#?}", m.findings);
    assert_eq!(valid(&m.yaml), 1);
    assert!(m.yaml.contains("namespace: default"));
}

#[test]
fn unreadable_input_is_an_error_naming_the_document() {
    assert!(matches!(
        migrate("a: [b", &Form::Routes),
        Err(MigrateError::Yaml(_))
    ));
    let bad =
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec: {rules: 3}\n";
    let err = migrate(bad, &Form::Routes).expect_err("not an Ingress");
    assert!(err.to_string().starts_with("document 1"), "{err}");
}

const README: &str = include_str!("../../../README.md");

/// The ```yaml blocks of the README section `heading`, in order.
fn readme_yaml(heading: &str) -> Vec<&'static str> {
    let at = README.find(heading).expect("the README section");
    let section = &README[at..];
    let end = section[heading.len()..]
        .find("\n## ")
        .map_or(section.len(), |e| e + heading.len());
    section[..end]
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .collect()
}

/// The README's `wsgate migrate` example shows the command's real output, which validates.
#[test]
fn the_readme_migration_example_is_what_migrate_prints() {
    let blocks = readme_yaml("### Converting Ingresses: `wsgate migrate`");
    assert_eq!(blocks.len(), 2, "an Ingress and its conversion");
    let m = migrate(blocks[0], &Form::Routes).expect("migrates");
    assert_eq!(m.yaml, blocks[1], "README output is stale");
    assert_eq!(valid(blocks[1]), 1);
    assert!(m.loses_something(), "the example shows NOT MAPPED lines");
}

fn parse<T: serde::de::DeserializeOwned>(doc: serde_json::Value) -> T {
    serde_json::from_value(doc).expect("object")
}

/// The objects of a migration's output, for the controller's translation.
fn objects(yaml: &str) -> Vec<crate::translate::Object> {
    use crate::translate::Object;
    let backend = r#"
apiVersion: v1
kind: Service
metadata: {name: chat, namespace: apps}
spec: {ports: [{name: ws, port: 3000}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: chat-1, namespace: apps, labels: {kubernetes.io/service-name: chat, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}
addressType: IPv4
ports: [{name: ws, port: 3000}]
endpoints: [{addresses: [10.0.0.1]}]
---
apiVersion: v1
kind: Secret
metadata: {name: chat-tls, namespace: apps}
type: kubernetes.io/tls
data: {tls.crt: Y2VydA==, tls.key: a2V5}
"#;
    let all = crate::yaml::documents(&format!("{yaml}\n---\n{backend}")).expect("YAML");
    all.into_iter()
        .map(|doc| {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            match kind.as_str() {
                "WebSocketRoute" => Object::Route(Box::new(parse(doc))),
                "HTTPRoute" => Object::HTTPRoute(Box::new(parse(doc))),
                "WebSocketPolicy" => Object::WebSocketPolicy(Box::new(parse(doc))),
                "Gateway" => Object::Gateway(Box::new(parse(doc))),
                "GatewayClass" => Object::GatewayClass(Box::new(parse(doc))),
                "Service" => Object::Service(Box::new(parse(doc))),
                "EndpointSlice" => Object::EndpointSlice(Box::new(parse(doc))),
                "Secret" => Object::Secret(Box::new(parse(doc))),
                other => panic!("unexpected {other}"),
            }
        })
        .collect()
}

fn table(yaml: &str) -> crate::translate::Translation {
    use crate::translate::tenancy::Tenancy;
    let mut index =
        crate::translate::Index::new("wsgate").with_tenancy(Tenancy::allowing(&["*".into()]));
    for o in objects(yaml) {
        index.apply(o);
    }
    index.build()
}

/// Both forms of the chat Ingress compile into the same route: hosts, paths, endpoints and
/// WebSocket policy (but for `ws://` in clear: 308 as a WebSocketRoute, 403 on a Gateway,
/// which the report says).
#[test]
fn the_gateway_form_serves_what_the_websocketroute_form_serves() {
    let routes = migrate(CHAT, &Form::Routes).expect("routes");
    let gateway = migrate(CHAT, &Form::Gateway("edge".into())).expect("gateway");
    let (a, b) = (table(&routes.yaml), table(&gateway.yaml));
    assert!(
        a.reports
            .values()
            .chain(b.reports.values())
            .all(|r| r.all_true()),
        "{:#?}{:#?}",
        a.reports,
        b.reports
    );
    let policy = &b.gateway.policies[&crate::translate::ObjectKey::new("apps", "chat")];
    assert!(
        policy.ancestors.iter().all(|(_, v)| v.status),
        "{policy:#?}"
    );
    assert!(b.gateway.routes.values().all(|r| {
        r.parents
            .iter()
            .all(|p| p.accepted.status && p.resolved_refs.status)
    }));
    assert_eq!((a.routes.len(), b.routes.len()), (1, 1));
    let (ra, rb) = (&a.routes[0], &b.routes[0]);
    assert_eq!(ra.hostnames, rb.hostnames);
    assert_eq!(ra.rules[0].path, rb.rules[0].path);
    assert_eq!(ra.rules[0].backend, rb.rules[0].backend);
    let mut pb = (*rb.policy).clone();
    assert!(ra.policy.redirect_upgrades && !pb.redirect_upgrades);
    pb.redirect_upgrades = true;
    // Matched on both listeners with the redirect in clear, or bound to the TLS listener with
    // the same redirect in clear: the same traffic.
    assert_eq!(pb.listeners, wsgate_core::table::Listeners::Tls);
    pb.listeners = wsgate_core::table::Listeners::Both;
    assert_eq!(*ra.policy, pb, "the same WebSocket policy");
    let (outcome_, note) = outcome(&gateway, "tls.redirectUpgrades");
    assert_eq!(outcome_, Outcome::Differs, "{note}");
    // cert-manager goes on the Gateway, which it issues listener certificates for.
    let (issuer, note) = outcome(&gateway, "cert-manager.io/cluster-issuer");
    assert_eq!(issuer, Outcome::Mapped, "{note}");
    assert!(
        gateway
            .yaml
            .contains("cert-manager.io/cluster-issuer: letsencrypt"),
        "{}",
        gateway.yaml
    );
}
