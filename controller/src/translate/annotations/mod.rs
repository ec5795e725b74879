//! Ingress annotations onto route-spec fields: `wsgate.dev/<field path>` for any spec field,
//! and the `nginx.ingress.kubernetes.io/*` annotations of ingress-nginx ([`nginx`]). An
//! annotation is honoured with the same meaning, or — when it cannot be — the Ingress is
//! refused: it is never served without something it asked for. README.md ("Migrating from
//! ingress-nginx") is the user-facing table of [`nginx::CATALOG`].

mod catalog;
pub mod nginx;
mod policy;
mod values;

pub use policy::{NGINX_PREFIX, Policy, Provenance, WSGATE_PREFIX, set_path};

use std::collections::BTreeMap;

use serde_json::Value;

/// Reads the annotations of an Ingress in `namespace`. `wsgate.dev/*` wins over
/// ingress-nginx ones.
pub fn policy_from_annotations(annotations: &BTreeMap<String, String>, namespace: &str) -> Policy {
    let mut policy = Policy::default();
    nginx::apply(&mut policy, annotations, namespace);
    for (key, value) in annotations {
        if let Some(path) = key.strip_prefix(WSGATE_PREFIX) {
            wsgate_annotation(&mut policy, key, path, value);
        }
    }
    policy
}

/// `wsgate.dev/timeouts.idle: 1h`, `wsgate.dev/session-affinity: "{type: Cookie}"`: the key
/// is a dotted spec path (kebab-case or camelCase), the value YAML. A path that names no
/// spec field refuses the Ingress when the spec is decoded.
fn wsgate_annotation(policy: &mut Policy, key: &str, path: &str, value: &str) {
    let segments: Vec<String> = path.split('.').map(camel_case).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return policy.refuse(key, "not a spec field path");
    }
    if matches!(segments[0].as_str(), "hostnames" | "rules") {
        return policy.refuse(key, "hosts and paths come from the Ingress rules");
    }
    let parsed: Value = match crate::yaml::from_str(value) {
        Ok(Value::Null) | Err(_) => Value::String(value.to_string()),
        Ok(v) => v,
    };
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    policy.set(&path, parsed, key);
}

/// `session-affinity` -> `sessionAffinity`; camelCase input is kept.
fn camel_case(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut upper = false;
    for c in segment.trim().chars() {
        if c == '-' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
