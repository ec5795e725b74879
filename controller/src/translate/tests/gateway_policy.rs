//! WebSocketPolicy attachment: which policy reaches which rule (rule over route over
//! Gateway), conflicts (oldest wins), missing targets, invalid sections, and Secrets read in
//! the policy's namespace.

use std::time::Duration;

use wsgate_core::table::{Affinity, Route};

use super::gateway::{HTTP_ALL, gateway, gw_class, http_route};
use super::*;
use crate::translate::gateway::policy::policy_reason as why;

/// WebSocketPolicy `ns/name` created at second `created` with `spec`.
fn policy(ns: &str, name: &str, created: u32, spec: &str) -> Object {
    Object::WebSocketPolicy(Box::new(obj(&format!(
        "metadata: {{name: {name}, namespace: {ns}, generation: 3, creationTimestamp: '2024-01-01T00:00:{created:02}Z'}}\nspec: {spec}"
    ))))
}

fn to_route(name: &str, section: Option<&str>, fields: &str) -> String {
    let section = section.map_or(String::new(), |s| format!(", sectionName: {s}"));
    format!(
        "{{targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: {name}{section}}}], {fields}}}"
    )
}

fn to_gateway(fields: &str) -> String {
    format!(
        "{{targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: gw}}], {fields}}}"
    )
}

/// Route `apps/chat` with two named rules: `socket` (/socket.io) and `api` (/api).
fn two_rules() -> Object {
    http_route(
        "apps",
        "chat",
        1,
        "{parentRefs: [{name: gw, namespace: infra}], hostnames: [chat.example.com], rules: [
          {name: socket, matches: [{path: {value: /socket.io}}], backendRefs: [{name: chat, port: 80}]},
          {name: api, matches: [{path: {value: /api}}], backendRefs: [{name: chat, port: 80}]}]}",
    )
}

fn build(mut objects: Vec<Object>) -> Translation {
    objects.push(gw_class());
    objects.push(gateway(HTTP_ALL));
    objects.push(two_rules());
    objects.extend(chat_backend("apps"));
    objects.extend(chat_backend("infra"));
    index(objects).build()
}

/// The table route of rule `path` of `apps/chat`.
fn rule_route<'a>(t: &'a Translation, path: &str) -> &'a Route {
    t.routes
        .iter()
        .filter(|r| r.id.name == "chat")
        .find(|r| {
            r.rules
                .iter()
                .any(|rule| format!("{:?}", rule.path).contains(path))
        })
        .unwrap_or_else(|| panic!("no route for {path}: {:#?}", t.routes))
}

fn idle(r: &Route) -> Option<Duration> {
    r.policy.idle_timeout
}

fn socketio(r: &Route) -> bool {
    matches!(r.policy.affinity, Affinity::SocketIo { .. })
}

/// (ancestor kind/name, Accepted status, reason) of a policy's report.
fn ancestors(t: &Translation, name: &str) -> Vec<(String, bool, String)> {
    let key = ObjectKey::new(if name == "edge" { "infra" } else { "apps" }, name);
    let r = t
        .gateway
        .policies
        .get(&key)
        .unwrap_or_else(|| panic!("no report for {key}: {:#?}", t.gateway.policies));
    assert_eq!(
        r.generation,
        Some(3),
        "observedGeneration follows the policy"
    );
    r.ancestors
        .iter()
        .map(|(a, v)| (format!("{}/{}", a.kind, a.name), v.status, v.reason.clone()))
        .collect()
}

#[test]
fn rule_over_route_over_gateway_section_by_section() {
    let t = build(vec![
        policy(
            "infra",
            "edge",
            1,
            &to_gateway("timeouts: {idle: 1m}, limits: {maxMessageBytes: 1000}"),
        ),
        policy(
            "apps",
            "whole",
            2,
            &to_route("chat", None, "timeouts: {idle: 2m}"),
        ),
        policy(
            "apps",
            "sio",
            3,
            &to_route(
                "chat",
                Some("socket"),
                "sessionAffinity: {type: SocketIO}, timeouts: {idle: 3m}",
            ),
        ),
    ]);
    let socket = rule_route(&t, "/socket.io");
    let api = rule_route(&t, "/api");
    assert_eq!(
        idle(socket),
        Some(Duration::from_secs(180)),
        "the rule's policy wins"
    );
    assert_eq!(
        idle(api),
        Some(Duration::from_secs(120)),
        "then the route's"
    );
    assert!(
        socketio(socket) && !socketio(api),
        "a rule policy reaches its rule only"
    );
    for r in [socket, api] {
        assert_eq!(
            r.policy.max_message_bytes, 1000,
            "the Gateway's sections stay as defaults"
        );
    }
    let gw = ("Gateway/gw".to_string(), true, why::ACCEPTED.to_string());
    assert_eq!(ancestors(&t, "edge"), vec![gw.clone()]);
    assert_eq!(
        ancestors(&t, "whole"),
        vec![gw.clone()],
        "a route's ancestor is its Gateway"
    );
    assert_eq!(ancestors(&t, "sio"), vec![gw]);
}

#[test]
fn the_older_policy_holds_a_target_and_the_newer_is_conflicted() {
    let t = build(vec![
        policy(
            "apps",
            "newer",
            5,
            &to_route("chat", None, "timeouts: {idle: 9m}"),
        ),
        policy(
            "apps",
            "older",
            2,
            &to_route("chat", None, "timeouts: {idle: 2m}"),
        ),
    ]);
    assert_eq!(idle(rule_route(&t, "/api")), Some(Duration::from_secs(120)));
    assert_eq!(ancestors(&t, "older")[0].2, why::ACCEPTED);
    assert_eq!(
        ancestors(&t, "newer"),
        vec![("Gateway/gw".into(), false, why::CONFLICTED.into())]
    );
    let report = report(&t, SourceKind::WebSocketPolicy, "apps", "newer");
    assert_eq!(report.accepted.reason, why::CONFLICTED, "an Event says so");
    assert!(report.accepted.message.contains("apps/older"), "{report:?}");
}

#[test]
fn targets_that_lead_nowhere_are_reported_by_name() {
    // (spec, reason)
    let cases = [
        (to_route("nope", None, "timeouts: {idle: 1m}"), why::TARGET_NOT_FOUND),
        (to_route("chat", Some("nope"), "timeouts: {idle: 1m}"), why::TARGET_NOT_FOUND),
        (
            "{targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: other}], timeouts: {idle: 1m}}".into(),
            why::TARGET_NOT_FOUND,
        ),
        (
            "{targetRefs: [{group: '', kind: ConfigMap, name: chat}], timeouts: {idle: 1m}}".into(),
            why::INVALID,
        ),
        (
            "{targetRefs: [{group: '', kind: Service, name: nobody-sends-here}], timeouts: {idle: 1m}}".into(),
            why::TARGET_NOT_FOUND,
        ),
        (to_route("chat", None, "origins: {allow: ['not a url']}"), why::INVALID),
    ];
    for (spec, want) in cases {
        let t = build(vec![policy("apps", "p", 1, &spec)]);
        let got = ancestors(&t, "p");
        assert_eq!(got.len(), 1, "{spec}: {got:?}");
        assert!(!got[0].1 && got[0].2 == want, "{spec}: {got:?}");
        assert_eq!(
            idle(rule_route(&t, "/api")),
            Some(Duration::from_secs(3600)),
            "{spec}: nothing applied"
        );
    }
}

#[test]
fn an_invalid_policy_names_the_field_and_changes_nothing() {
    let t = build(vec![policy(
        "apps",
        "p",
        1,
        &to_route("chat", None, "origins: {allow: ['not a url']}"),
    )]);
    let r = &t.gateway.policies[&ObjectKey::new("apps", "p")].ancestors[0].1;
    assert!(r.message.contains("spec.origins.allow[0]"), "{r:?}");
    assert!(rule_route(&t, "/api").policy.security.origins.is_none());
}

#[test]
fn a_ticket_secret_is_read_in_the_policy_namespace_and_a_missing_one_fails_closed() {
    let ticket = "auth: {ticket: {algorithm: HS256, secretRef: {name: ticket-key}}}";
    let key = |ns: &str| {
        Object::LabelledSecret(Box::new(obj(&format!(
            "metadata: {{name: ticket-key, namespace: {ns}, labels: {{wsgate.dev/secret: 'true'}}}}\ndata: {{key: dGhpcy1pcy1hLWxvbmctZW5vdWdoLXRpY2tldC1rZXk=}}"
        ))))
    };
    // The Gateway owner's key in infra; a key of the same name in the route's namespace must
    // not stand in for it.
    let ok = build(vec![
        policy("infra", "edge", 1, &to_gateway(ticket)),
        key("infra"),
    ]);
    assert!(
        rule_route(&ok, "/api").policy.security.ticket.is_some(),
        "{:?}",
        ok.gateway.policies
    );
    assert!(endpoints(&ok, "chat").is_ok());
    assert!(ancestors(&ok, "edge")[0].1, "accepted");

    let missing = build(vec![
        policy("infra", "edge", 1, &to_gateway(ticket)),
        key("apps"),
    ]);
    let why_503 = endpoints(&missing, "chat").expect_err("fails closed");
    assert!(why_503.contains("infra/ticket-key"), "{why_503}");
    assert_eq!(ancestors(&missing, "edge")[0].2, why::INVALID);
}

/// A policy on a Service reaches every rule sending to it, above the Gateway's and below the
/// route's; its ancestors are the Gateways of those routes.
#[test]
fn a_service_policy_reaches_the_rules_that_send_to_it() {
    let to_service = "{targetRefs: [{group: '', kind: Service, name: chat}], timeouts: {idle: 5m}, limits: {maxMessageBytes: 2048}}";
    let t = build(vec![
        policy(
            "infra",
            "edge",
            1,
            &to_gateway("timeouts: {idle: 1m}, keepalive: {pingInterval: 5s}"),
        ),
        policy("apps", "svc", 2, to_service),
        policy(
            "apps",
            "sio",
            3,
            &to_route("chat", Some("socket"), "timeouts: {idle: 3m}"),
        ),
    ]);
    let (socket, api) = (rule_route(&t, "/socket.io"), rule_route(&t, "/api"));
    assert_eq!(
        idle(api),
        Some(Duration::from_secs(300)),
        "the Service's over the Gateway's"
    );
    assert_eq!(
        idle(socket),
        Some(Duration::from_secs(180)),
        "the rule's over the Service's"
    );
    for r in [socket, api] {
        assert_eq!(r.policy.max_message_bytes, 2048);
        let ping = r.policy.keepalive.as_ref().map(|k| k.interval);
        assert_eq!(
            ping,
            Some(Duration::from_secs(5)),
            "the Gateway's keepalive stays"
        );
    }
    assert_eq!(
        ancestors(&t, "svc"),
        vec![("Gateway/gw".to_string(), true, why::ACCEPTED.to_string())]
    );
}

/// GEP-713 overrides: a Gateway policy's `overrides` win over a route's sections, while its
/// plain sections stay defaults the route may replace.
#[test]
fn gateway_overrides_win_over_route_policies() {
    let t = build(vec![
        policy(
            "infra",
            "edge",
            1,
            &to_gateway("timeouts: {idle: 1m}, overrides: {limits: {maxMessageBytes: 4096}}"),
        ),
        policy(
            "apps",
            "chat",
            2,
            &to_route(
                "chat",
                None,
                "timeouts: {idle: 2m}, limits: {maxMessageBytes: 999999}",
            ),
        ),
    ]);
    let api = rule_route(&t, "/api");
    assert_eq!(api.policy.max_message_bytes, 4096, "the override holds");
    assert_eq!(
        idle(api),
        Some(Duration::from_secs(120)),
        "a default is replaced"
    );
    let bad = build(vec![policy(
        "infra",
        "edge",
        1,
        &to_gateway("overrides: {origins: {allow: ['not a url']}}"),
    )]);
    let (_, v) = &bad.gateway.policies[&ObjectKey::new("infra", "edge")].ancestors[0];
    assert!(
        !v.status && v.message.contains("overrides: spec.origins.allow[0]"),
        "{v:?}"
    );
}

#[test]
fn a_policy_carries_rebalancing_to_its_rules_and_a_bad_one_names_the_field() {
    let rebalance = "loadBalancing: {rebalance: {maxImbalance: 1.5, window: 10s}}";
    let t = build(vec![policy(
        "apps",
        "p",
        1,
        &to_route("chat", Some("socket"), rebalance),
    )]);
    let r = rule_route(&t, "/socket.io").policy.balancing.rebalance;
    assert_eq!(
        r.map(|r| (r.max_imbalance, r.window, r.close_code)),
        Some((1.5, Duration::from_secs(10), 1012))
    );
    assert_eq!(rule_route(&t, "/api").policy.balancing.rebalance, None);

    let bad = "loadBalancing: {rebalance: {closeCode: 1011}}";
    let t = build(vec![policy("apps", "p", 1, &to_route("chat", None, bad))]);
    let report = &t.gateway.policies[&ObjectKey::new("apps", "p")].ancestors[0].1;
    assert!(
        report
            .message
            .contains("spec.loadBalancing.rebalance.closeCode"),
        "{report:?}"
    );
    assert_eq!(rule_route(&t, "/api").policy.balancing.rebalance, None);
}
