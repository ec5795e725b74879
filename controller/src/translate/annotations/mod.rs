//! Ingress annotations onto route-spec fields: `wsgate.dev/<field path>` for any spec field,
//! and the `nginx.ingress.kubernetes.io/*` annotations of ingress-nginx ([`nginx`]). An
//! annotation is honoured with the same meaning, or — when it cannot be — the Ingress is
//! refused: it is never served without something it asked for. README.md ("Migrating from
//! ingress-nginx") is the user-facing table of [`nginx::CATALOG`].

mod catalog;
pub mod nginx;
mod values;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Prefix of wsgate's own annotations.
pub const WSGATE_PREFIX: &str = "wsgate.dev/";
/// Prefix of ingress-nginx annotations.
pub const NGINX_PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// Which annotation set which spec field, so a decoding error names the annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// Spec field path, e.g. `["timeouts", "idle"]`.
    pub path: Vec<String>,
    /// Annotation key.
    pub annotation: String,
}

/// The spec fragment built from an object's annotations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// Spec fields (camelCase JSON), to be merged under hostnames and rules.
    pub fields: Map<String, Value>,
    /// Where each field came from.
    pub provenance: Vec<Provenance>,
    /// Notes for Events (honoured, but worth knowing).
    pub warnings: Vec<String>,
    /// Annotations that cannot be honoured, with why: any refuses the Ingress.
    pub refusals: Vec<String>,
    /// `ssl-redirect` (ingress-nginx default: on for hosts with TLS).
    pub ssl_redirect: Option<bool>,
    /// `force-ssl-redirect`: redirect even hosts without TLS of their own.
    pub force_ssl_redirect: bool,
    /// TLS to every backend (`backend-protocol: HTTPS`), merged into each rule's backend.
    pub backend_tls: Option<Value>,
    /// `server-alias`: more hosts served like the Ingress's own.
    pub aliases: Vec<String>,
}

impl Policy {
    fn set(&mut self, path: &[&str], value: Value, annotation: &str) {
        set_path(&mut self.fields, path, value);
        self.provenance.push(Provenance {
            path: path.iter().map(|s| s.to_string()).collect(),
            annotation: annotation.to_string(),
        });
    }

    fn refuse(&mut self, annotation: &str, why: &str) {
        self.refusals.push(format!("{annotation}: {why}"));
    }

    fn note(&mut self, annotation: &str, what: &str) {
        self.warnings.push(format!("{annotation}: {what}"));
    }
}

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

/// Sets `path` in `map`, creating (or replacing non-object) intermediate objects.
pub fn set_path(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = map;
    for segment in parents {
        let entry = current
            .entry(segment.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        current = next;
    }
    current.insert(last.to_string(), value);
}
