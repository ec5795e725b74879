//! The spec fragment an object's annotations build, and where each field came from.

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
    pub(super) fn set(&mut self, path: &[&str], value: Value, annotation: &str) {
        set_path(&mut self.fields, path, value);
        self.provenance.push(Provenance {
            path: path.iter().map(|s| s.to_string()).collect(),
            annotation: annotation.to_string(),
        });
    }

    pub(super) fn refuse(&mut self, annotation: &str, why: &str) {
        self.refusals.push(format!("{annotation}: {why}"));
    }

    pub(super) fn note(&mut self, annotation: &str, what: &str) {
        self.warnings.push(format!("{annotation}: {what}"));
    }
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
