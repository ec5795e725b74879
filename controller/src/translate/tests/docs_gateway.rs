//! The README's Gateway API quick start is what wsgate accepts and serves.

use super::gateway::{HTTP_SAME, gateway, gw_class};
use super::*;
use crate::translate::gateway_reports::GatewayReports;

const README: &str = include_str!("../../../../README.md");

/// The first ```yaml block after `heading`.
pub(super) fn yaml_after(heading: &str) -> &'static str {
    let at = README
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &README[at..];
    let start = rest.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let len = rest[start..].find("```").expect("end of the yaml block");
    &rest[start..start + len]
}

pub(super) fn objects(yaml: &str) -> Vec<Object> {
    yaml.split("\n---\n")
        .map(|doc| {
            let kind: serde_json::Value = obj(doc);
            match kind["kind"].as_str().unwrap_or_default() {
                "GatewayClass" => Object::GatewayClass(Box::new(obj(doc))),
                "Gateway" => Object::Gateway(Box::new(obj(doc))),
                "HTTPRoute" => Object::HTTPRoute(Box::new(obj(doc))),
                "WebSocketPolicy" => Object::WebSocketPolicy(Box::new(obj(doc))),
                other => panic!("unexpected kind {other} in the README"),
            }
        })
        .collect()
}

fn all_true(reports: &GatewayReports) {
    assert!(
        reports.classes.values().all(|(_, v)| v.status),
        "{reports:#?}"
    );
    for gw in reports.gateways.values() {
        assert!(gw.accepted.status && gw.programmed.status, "{gw:#?}");
        assert!(gw.listeners.iter().all(|l| l.usable()), "{gw:#?}");
    }
    for r in reports.routes.values() {
        assert!(!r.parents.is_empty());
        assert!(
            r.parents
                .iter()
                .all(|p| p.accepted.status && p.resolved_refs.status),
            "{r:#?}"
        );
    }
}

#[test]
fn the_readme_gateway_api_quick_start_is_accepted_and_served() {
    let mut all = objects(yaml_after("## Gateway API"));
    assert_eq!(all.len(), 4);
    all.push(service("default", "chat", "[{name: ws, port: 3000}]"));
    all.push(slice(
        "default",
        "chat",
        "chat-1",
        "[{name: ws, port: 3000}]",
        "[{addresses: [10.0.0.1]}]",
    ));
    all.push(tls_secret("default", "chat-tls", "Y2VydA=="));
    let t = index(all).build();
    all_true(&t.gateway);
    assert_eq!(t.gateway.routes.len(), 1);
    let hosts: Vec<_> = t.routes.iter().map(|r| r.hostnames.to_vec()).collect();
    assert!(
        hosts.iter().all(|h| h
            == &[wsgate_core::table::HostMatch::Exact(
                "chat.example.com".into()
            )]),
        "{hosts:?}"
    );
    assert!(
        t.routes.iter().all(|r| r.tls.is_some()),
        "served with the listener's certificate"
    );
    assert_eq!(
        t.routes[0].policy.handshake_timeout,
        std::time::Duration::from_secs(10)
    );
    // The WebSocketPolicy applies to both rules of the route and is Accepted.
    let policy = &t.gateway.policies[&ObjectKey::new("default", "chat")];
    assert!(
        !policy.ancestors.is_empty() && policy.ancestors.iter().all(|(_, v)| v.status),
        "{policy:#?}"
    );
    for r in &t.routes {
        let p = &r.policy;
        assert!(matches!(
            p.affinity,
            wsgate_core::table::Affinity::SocketIo { .. }
        ));
        assert!(p.security.origins.is_some());
        assert_eq!(p.idle_timeout, Some(std::time::Duration::from_secs(1800)));
        assert_eq!(p.max_message_bytes, 1_048_576);
        assert!(
            p.redirect_http,
            "attached to the HTTPS listener only: not served in clear"
        );
    }
    let redirect = t.routes[1].rules[0]
        .filters
        .redirect
        .as_ref()
        .expect("the redirect rule");
    assert_eq!(redirect.status, 301);
    // The fixtures of the table tests agree with the README's shape.
    let t = index(vec![gw_class(), gateway(HTTP_SAME)]).build();
    all_true(&t.gateway);
}
