//! Ingress annotations onto route-spec fields: `wsgate.dev/<field path>` for any spec field,
//! and the ingress-nginx annotations people use for WebSockets. README.md ("Migrating from ingress-nginx")
//! is the user-facing table of this file.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Prefix of wsgate's own annotations.
pub const WSGATE_PREFIX: &str = "wsgate.dev/";
/// Prefix of ingress-nginx annotations.
pub const NGINX_PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// Which annotation set which spec field, so a field this wsgate version lacks can be traced
/// back to the annotation that asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// Spec field path, e.g. `["timeouts", "idle"]`.
    pub path: Vec<String>,
    /// Annotation key.
    pub annotation: String,
    /// Whether ignoring it would weaken security (then the Ingress is refused instead).
    pub required: bool,
}

/// The spec fragment built from an object's annotations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// Spec fields (camelCase JSON), to be merged under hostnames and rules.
    pub fields: Map<String, Value>,
    /// Where each field came from.
    pub provenance: Vec<Provenance>,
    /// Annotations that were ignored, with why.
    pub warnings: Vec<String>,
}

impl Policy {
    fn set(&mut self, path: &[&str], value: Value, annotation: &str, required: bool) {
        set_path(&mut self.fields, path, value);
        self.provenance.push(Provenance {
            path: path.iter().map(|s| s.to_string()).collect(),
            annotation: annotation.to_string(),
            required,
        });
    }

    fn ignore(&mut self, annotation: &str, why: &str) {
        self.warnings
            .push(format!("ignored annotation {annotation}: {why}"));
    }
}

/// Reads the annotations of an Ingress into spec fields. `wsgate.dev/*` wins over nginx.
pub fn policy_from_annotations(annotations: &BTreeMap<String, String>) -> Policy {
    let mut policy = Policy::default();
    let mut idle_secs: Option<(u64, String)> = None;
    let affinity_cookie = annotations
        .get(&format!("{NGINX_PREFIX}affinity"))
        .is_some_and(|v| v.trim() == "cookie");
    for (key, value) in annotations {
        let Some(name) = key.strip_prefix(NGINX_PREFIX) else {
            continue;
        };
        let value = value.trim();
        match name {
            "proxy-read-timeout" | "proxy-send-timeout" => match parse_seconds(value) {
                Some(s) if idle_secs.as_ref().is_none_or(|(old, _)| s > *old) => {
                    idle_secs = Some((s, key.clone()))
                }
                Some(_) => {}
                None => policy.ignore(key, "expected a number of seconds"),
            },
            _ => nginx_annotation(&mut policy, key, name, value, affinity_cookie),
        }
    }
    if let Some((secs, key)) = idle_secs {
        // nginx times out a WebSocket after this long without traffic: wsgate's idle timeout.
        policy.set(
            &["timeouts", "idle"],
            json!(format!("{secs}s")),
            &key,
            false,
        );
    }
    for (key, value) in annotations {
        if let Some(path) = key.strip_prefix(WSGATE_PREFIX) {
            wsgate_annotation(&mut policy, key, path, value);
        }
    }
    policy
}

fn nginx_annotation(policy: &mut Policy, key: &str, name: &str, value: &str, cookie: bool) {
    match name {
        "affinity" if value == "cookie" => {
            policy.set(&["sessionAffinity", "type"], json!("Cookie"), key, false)
        }
        "affinity" => policy.ignore(key, "only \"cookie\" is supported"),
        "session-cookie-name" if cookie => {
            policy.set(&["sessionAffinity", "cookieName"], json!(value), key, false)
        }
        "session-cookie-max-age" if cookie => match parse_seconds(value) {
            Some(s) => policy.set(
                &["sessionAffinity", "ttl"],
                json!(format!("{s}s")),
                key,
                false,
            ),
            None => policy.ignore(key, "expected a number of seconds"),
        },
        "session-cookie-name" | "session-cookie-max-age" => {
            policy.ignore(key, "has no effect without affinity: cookie")
        }
        "upstream-hash-by" => upstream_hash_by(policy, key, value),
        "whitelist-source-range" => {
            let ranges: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            // Refusing beats silently serving a restricted backend to everyone.
            policy.set(&["limits", "sourceRanges"], json!(ranges), key, true)
        }
        "limit-connections" => match value.parse::<u64>() {
            Ok(n) => policy.set(&["limits", "maxConnectionsPerIP"], json!(n), key, false),
            Err(_) => policy.ignore(key, "expected a whole number"),
        },
        "ssl-redirect" => policy.ignore(
            key,
            "set wsgate.dev/tls.redirect-http: \"true\" to redirect plain HTTP requests with 308",
        ),
        _ => policy.ignore(key, "wsgate has no equivalent"),
    }
}

fn upstream_hash_by(policy: &mut Policy, key: &str, value: &str) {
    let affinity = if matches!(value, "$remote_addr" | "$binary_remote_addr") {
        json!({"type": "ClientIP"})
    } else if let Some(header) = value.strip_prefix("$http_") {
        json!({"type": "Header", "headerName": header.replace('_', "-")})
    } else if let Some(param) = value.strip_prefix("$arg_") {
        json!({"type": "Query", "queryParam": param})
    } else {
        policy.ignore(
            key,
            "only $remote_addr, $binary_remote_addr, $http_<header> and $arg_<param> map onto session affinity",
        );
        return;
    };
    policy.set(&["sessionAffinity"], affinity, key, false);
}

/// `wsgate.dev/timeouts.idle: 1h`, `wsgate.dev/session-affinity: "{type: Cookie}"`: the key
/// is a dotted spec path (kebab-case or camelCase), the value YAML.
fn wsgate_annotation(policy: &mut Policy, key: &str, path: &str, value: &str) {
    let segments: Vec<String> = path.split('.').map(camel_case).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return policy.ignore(key, "not a spec field path");
    }
    if matches!(segments[0].as_str(), "hostnames" | "rules") {
        return policy.ignore(key, "hosts and paths come from the Ingress rules");
    }
    let parsed: Value = match crate::yaml::from_str(value) {
        Ok(Value::Null) | Err(_) => Value::String(value.to_string()),
        Ok(v) => v,
    };
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    policy.set(&path, parsed, key, false);
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

/// `3600` or `3600s` (nginx accepts both for its timeouts).
fn parse_seconds(value: &str) -> Option<u64> {
    value.strip_suffix('s').unwrap_or(value).parse().ok()
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
