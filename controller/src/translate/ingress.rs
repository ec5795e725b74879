//! Ingress objects of wsgate's class as route specs: one route per host (rules of one host
//! are merged), plus one host-less route for the default backend.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{Ingress, IngressBackend, IngressClass, IngressRule};
use serde_json::{Map, Value, json};
use wsgate_core::table::RouteId;

use super::annotations::{Policy, Provenance, policy_from_annotations};
use super::decode::{Decoded, Refusal, decode_spec};
use super::report::reason;

/// `spec.controller` of the IngressClasses wsgate serves.
pub const CONTROLLER_NAME: &str = "wsgate.dev/ingress-controller";
/// Annotation that marks the cluster's default IngressClass.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";
/// The pre-IngressClass way of choosing a class.
pub const LEGACY_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Whether wsgate (serving class `our_class`) handles `ingress`: its class is ours and that
/// IngressClass names wsgate's controller, or it names no class and ours is the default.
pub fn is_handled(
    ingress: &Ingress,
    classes: &BTreeMap<String, IngressClass>,
    our_class: &str,
) -> bool {
    let ours = |c: &IngressClass| {
        c.spec.as_ref().and_then(|s| s.controller.as_deref()) == Some(CONTROLLER_NAME)
    };
    let Some(class) = classes.get(our_class).filter(|c| ours(c)) else {
        return false;
    };
    let named = ingress
        .spec
        .as_ref()
        .and_then(|s| s.ingress_class_name.as_deref())
        .or_else(|| annotation(ingress, LEGACY_CLASS_ANNOTATION));
    match named {
        Some(name) => name == our_class,
        None => class
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
            .is_some_and(|v| v == "true"),
    }
}

fn annotation<'a>(ingress: &'a Ingress, key: &str) -> Option<&'a str> {
    ingress
        .metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// One route made from an Ingress.
#[derive(Debug, PartialEq)]
pub struct IngressRoute {
    /// `namespace` / `<ingress>/<host>` (`*` for rules without host, `default-backend`).
    pub id: RouteId,
    /// The decoded spec (or why it is refused) and dropped fields.
    pub decoded: Decoded,
}

/// Everything an Ingress turns into.
#[derive(Debug, PartialEq)]
pub struct IngressRoutes {
    /// Routes in rule order.
    pub routes: Vec<IngressRoute>,
    /// Annotations that were ignored.
    pub warnings: Vec<String>,
}

/// Translates `ingress` (already known to be ours).
pub fn translate_ingress(ingress: &Ingress) -> Result<IngressRoutes, Refusal> {
    let namespace = ingress.metadata.namespace.clone().unwrap_or_default();
    let name = ingress.metadata.name.clone().unwrap_or_default();
    let spec = ingress.spec.clone().unwrap_or_default();
    let annotations = ingress.metadata.annotations.clone().unwrap_or_default();
    let policy = policy_from_annotations(&annotations, &namespace);
    if !policy.refusals.is_empty() {
        return Err(Refusal {
            reason: reason::UNSUPPORTED_ANNOTATION,
            message: policy.refusals.join("; "),
        });
    }
    let tls_for = |host: &str| -> Option<String> {
        spec.tls.iter().flatten().find_map(|t| {
            let hosts = t.hosts.as_deref().unwrap_or_default();
            hosts
                .iter()
                .any(|h| h == host)
                .then(|| t.secret_name.clone())
                .flatten()
        })
    };
    let mut by_host: Vec<(String, Vec<Value>)> = Vec::new();
    for rule in spec.rules.iter().flatten() {
        let host = rule.host.clone().unwrap_or_else(|| "*".into());
        let rules = rule_paths(rule, spec.default_backend.as_ref())?;
        match by_host.iter_mut().find(|(h, _)| *h == host) {
            Some((_, existing)) => existing.extend(rules),
            None => by_host.push((host, rules)),
        }
    }
    if let Some(default) = &spec.default_backend {
        let rule = json!({"backend": backend(default)?});
        by_host.push(("default-backend".into(), vec![rule]));
    }
    if by_host.iter().all(|(_, rules)| rules.is_empty()) {
        return Err(Refusal {
            reason: reason::INVALID_SPEC,
            message: "the Ingress has no paths and no default backend".into(),
        });
    }
    let mut routes = Vec::new();
    for (host, rules) in by_host.into_iter().filter(|(_, r)| !r.is_empty()) {
        let secret = tls_for(&host);
        let fields = host_fields(&policy, &host, rules, secret);
        let mut provenance: Vec<Provenance> = policy.provenance.clone();
        provenance.push(Provenance {
            path: vec!["tls".into()],
            annotation: "spec.tls".into(),
        });
        let id = RouteId {
            namespace: namespace.clone(),
            name: format!("{name}/{host}"),
        };
        let decoded = decode_spec(Value::Object(fields), &provenance);
        routes.push(IngressRoute { id, decoded });
    }
    Ok(IngressRoutes {
        routes,
        warnings: policy.warnings,
    })
}

/// The spec fields of the route of one host: the annotations' fields, its hosts (plus
/// `server-alias`), its rules (with backend TLS), its certificate and redirect.
fn host_fields(
    policy: &Policy,
    host: &str,
    mut rules: Vec<Value>,
    secret: Option<String>,
) -> Map<String, Value> {
    let mut fields: Map<String, Value> = policy.fields.clone();
    let hostnames: Vec<String> = match host {
        "*" | "default-backend" => Vec::new(),
        h => std::iter::once(h.to_string())
            .chain(policy.aliases.iter().cloned())
            .collect(),
    };
    fields.insert("hostnames".into(), json!(hostnames));
    if let Some(tls) = &policy.backend_tls {
        for rule in &mut rules {
            if let Some(backend) = rule.get_mut("backend").and_then(Value::as_object_mut) {
                backend.insert("tls".into(), tls.clone());
            }
        }
    }
    fields.insert("rules".into(), Value::Array(rules));
    // ingress-nginx redirects plain HTTP to https for hosts with TLS unless told not to.
    let redirect = !hostnames.is_empty()
        && (policy.force_ssl_redirect || (secret.is_some() && policy.ssl_redirect != Some(false)));
    if secret.is_some() || redirect {
        let tls = fields
            .entry("tls")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(tls) = tls {
            if let Some(secret) = secret {
                tls.insert("secretName".into(), json!(secret));
            }
            if redirect && !tls.contains_key("redirectHttp") {
                // ingress-nginx answers every plain request, upgrades included, with the 308.
                tls.insert("redirectHttp".into(), json!(true));
                tls.entry("redirectUpgrades").or_insert(json!(true));
            }
        }
    }
    fields
}

/// The route rules of one Ingress rule; a rule with no paths uses the default backend.
fn rule_paths(rule: &IngressRule, default: Option<&IngressBackend>) -> Result<Vec<Value>, Refusal> {
    let Some(http) = &rule.http else {
        return Ok(match default {
            Some(d) => vec![json!({"backend": backend(d)?})],
            None => Vec::new(),
        });
    };
    let mut rules = Vec::with_capacity(http.paths.len());
    for p in &http.paths {
        let kind = match p.path_type.as_str() {
            "Exact" => "Exact",
            // ImplementationSpecific: wsgate's implementation is a segment-aware prefix.
            _ => "PathPrefix",
        };
        let value = p.path.clone().unwrap_or_else(|| "/".into());
        rules
            .push(json!({"path": {"type": kind, "value": value}, "backend": backend(&p.backend)?}));
    }
    Ok(rules)
}

fn backend(b: &IngressBackend) -> Result<Value, Refusal> {
    let Some(service) = &b.service else {
        return Err(Refusal {
            reason: reason::INVALID_SPEC,
            message: "resource backends are not supported; use a Service backend".into(),
        });
    };
    let port = service.port.as_ref();
    let port = match (
        port.and_then(|p| p.number),
        port.and_then(|p| p.name.clone()),
    ) {
        (Some(n), _) => json!(n),
        (None, Some(name)) => json!(name),
        (None, None) => {
            return Err(Refusal {
                reason: reason::INVALID_SPEC,
                message: format!("backend service {} has no port", service.name),
            });
        }
    };
    Ok(json!({"service": {"name": service.name, "port": port}}))
}
