//! The Gateway API form of a migration: each converted route as an HTTPRoute (hosts, paths,
//! Service backends) and a WebSocketPolicy (its WebSocket sections), attached to one Gateway
//! per namespace whose listeners are `http` and one `https-<host>` per certificate. What an
//! HTTPRoute cannot say is reported, never dropped.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wsgate_core::spec::{PathMatchType, RouteSpec, ServicePort};

use crate::crd::WebSocketRoute;
use crate::gateway_api::{CONTROLLER_NAME, GROUP};
use crate::policy_crd::{PolicyFields, PolicyTimeouts};

/// The Gateway of each namespace, as the routes need it.
#[derive(Debug, Default)]
pub struct Plan {
    /// HTTPS listeners by namespace: (listener name, host, Secret).
    pub listeners: BTreeMap<String, Vec<(String, String, String)>>,
    /// Annotations for the Gateway (cert-manager's) by namespace.
    pub annotations: BTreeMap<String, BTreeMap<String, String>>,
}

/// Documents of one route, and what they cannot carry: (field, why).
pub struct Converted {
    /// HTTPRoute, then WebSocketPolicy when the route has WebSocket sections.
    pub docs: Vec<Value>,
    /// What is lost.
    pub lost: Vec<(String, String)>,
}

/// `route` as an HTTPRoute (and WebSocketPolicy) attached to Gateway `gateway` of its
/// namespace; its certificate becomes a listener in `listeners`.
pub fn convert(route: &WebSocketRoute, gateway: &str, plan: &mut Plan) -> Converted {
    let ns = route.metadata.namespace.clone().unwrap_or_default();
    let name = route.metadata.name.clone().unwrap_or_default();
    let spec = &route.spec.route;
    let mut lost = Vec::new();
    let secret = spec.tls.as_ref().and_then(|t| t.secret_name.clone());
    let redirect = spec.tls.as_ref().and_then(|t| t.redirect_http) == Some(true);
    let mut parents = Vec::new();
    if let Some(secret) = &secret {
        for host in &spec.hostnames {
            let listener = format!("https-{}", host.replace('*', "any").replace('.', "-"));
            let entry = plan.listeners.entry(ns.clone()).or_default();
            if !entry.iter().any(|(l, _, _)| *l == listener) {
                entry.push((listener.clone(), host.clone(), secret.clone()));
            }
            parents.push(json!({"name": gateway, "sectionName": listener}));
        }
    }
    // A route served in clear too (no redirect) also takes the http listener.
    if parents.is_empty() || !redirect {
        parents.push(json!({"name": gateway, "sectionName": "http"}));
    }
    if redirect && spec.tls.as_ref().and_then(|t| t.redirect_upgrades) == Some(true) {
        lost.push((
            "tls.redirectUpgrades".into(),
            "differs: a ws:// upgrade in clear gets 403 (use wss://) instead of the 308".into(),
        ));
    }
    if redirect && secret.is_none() {
        lost.push((
            "tls.redirectHttp".into(),
            "a host without a certificate of its own cannot be redirected to an https listener; it is served on http".into(),
        ));
    }
    let rules = rules(spec, &mut lost);
    let mut docs = vec![json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"parentRefs": parents, "hostnames": spec.hostnames, "rules": rules},
    })];
    let fields = policy_fields(spec);
    if fields != PolicyFields::default() {
        let mut policy = serde_json::to_value(&fields).unwrap_or_else(|_| json!({}));
        if let Some(p) = policy.as_object_mut() {
            p.insert(
                "targetRefs".into(),
                json!([{"group": GROUP, "kind": "HTTPRoute", "name": name}]),
            );
        }
        docs.push(json!({
            "apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": policy,
        }));
    }
    Converted { docs, lost }
}

fn rules(spec: &RouteSpec, lost: &mut Vec<(String, String)>) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, rule) in spec.rules.iter().enumerate() {
        let field = format!("rules[{i}]");
        let path = rule
            .path
            .clone()
            .unwrap_or(wsgate_core::spec::PathMatchSpec {
                kind: PathMatchType::PathPrefix,
                value: "/".into(),
            });
        let kind = match path.kind {
            PathMatchType::PathPrefix => "PathPrefix",
            PathMatchType::Exact => "Exact",
        };
        let mut backends = Vec::new();
        if rule.backend.tls.is_some() {
            lost.push((
                format!("{field}.backend.tls"),
                "TLS to the backend has no HTTPRoute field (the Gateway API's BackendTLSPolicy is not served by wsgate); the HTTPRoute speaks plaintext to it".into(),
            ));
        }
        if let Some(svc) = &rule.backend.service {
            match &svc.port {
                ServicePort::Number(n) => backends.push(json!({"name": svc.name, "port": n})),
                ServicePort::Name(p) => lost.push((
                    format!("{field}.backend.service.port"),
                    format!("port {p:?} of Service {} is named; an HTTPRoute backendRef needs its number: the rule has no backend until it is set", svc.name),
                )),
            }
        }
        out.push(json!({
            "matches": [{"path": {"type": kind, "value": path.value}}],
            "backendRefs": backends,
        }));
    }
    out
}

/// The WebSocket sections of a route spec, as a policy's.
fn policy_fields(spec: &RouteSpec) -> PolicyFields {
    let timeouts = spec.timeouts.as_ref().and_then(|t| {
        let p = PolicyTimeouts {
            idle: t.idle,
            idle_counts_control_frames: t.idle_counts_control_frames,
            connect: t.connect,
        };
        (p != PolicyTimeouts::default()).then_some(p)
    });
    PolicyFields {
        session_affinity: spec.session_affinity.clone(),
        load_balancing: spec.load_balancing.clone(),
        timeouts,
        keepalive: spec.keepalive.clone(),
        limits: spec.limits.clone(),
        origins: spec.origins.clone(),
        auth: spec.auth.clone(),
        drain: spec.drain.clone(),
        source_ranges: spec.source_ranges.clone(),
        access_log: spec.access_log.clone(),
        protocol: spec.protocol,
    }
}

/// The GatewayClass, and one Gateway `name` per namespace with an `http` listener and the
/// `https-<host>` listeners the routes need (their Secrets are in the same namespace), with
/// the Ingresses' cert-manager annotations (its gateway-shim issues listener certificates).
pub fn gateways(name: &str, namespaces: &[String], plan: &Plan) -> Vec<Value> {
    let mut out = vec![json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "GatewayClass",
        "metadata": {"name": "wsgate"},
        "spec": {"controllerName": CONTROLLER_NAME},
    })];
    for ns in namespaces {
        let mut list = vec![json!({"name": "http", "protocol": "HTTP", "port": 80})];
        for (listener, host, secret) in plan.listeners.get(ns).into_iter().flatten() {
            list.push(json!({
                "name": listener, "protocol": "HTTPS", "port": 443, "hostname": host,
                "tls": {"mode": "Terminate", "certificateRefs": [{"name": secret}]},
            }));
        }
        let mut gateway = json!({
            "apiVersion": format!("{GROUP}/v1"), "kind": "Gateway",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"gatewayClassName": "wsgate", "listeners": list},
        });
        if let Some(a) = plan.annotations.get(ns).filter(|a| !a.is_empty()) {
            gateway["metadata"]["annotations"] = json!(a);
        }
        out.push(gateway);
    }
    out
}
