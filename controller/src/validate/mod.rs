//! `wsgate validate`: checks YAML documents the way `wsgate proxy` and the controller would,
//! and returns every error with the document and field it is about. One function for the
//! command line and for admission: [`validate_documents`] (text in, errors out).
//!
//! ```text
//!  YAML stream ─split─> document ─┬─ ProxyConfig, WebSocketRoute with addresses ─> routes-file loader
//!                                 ├─ WebSocketRoute with a Service, Ingress ──────> controller translation
//!                                 ├─ WebSocketPolicy ─────────────────────────────> its sections compiled
//!                                 └─ any other kind ──────────────────────────────> skipped
//! ```
//!
//! Services, Secrets and EndpointSlices are not looked up: a missing one is the cluster's
//! state, not an error of the document (status reports it).

mod cluster;
mod error;
mod routes_file;

pub use error::DocumentError;
#[cfg(test)]
use error::field_and_message;

use std::collections::HashSet;
use std::path::Path;

use serde_yaml::Value;
use wsgate_core::spec::{API_VERSION, PROXY_CONFIG_KIND, ROUTE_KIND};

/// What [`validate_documents`] looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    /// Every error found (empty: valid).
    pub errors: Vec<DocumentError>,
    /// Documents checked.
    pub checked: usize,
    /// Documents of kinds wsgate does not read (Deployments, Services, ...), not checked.
    pub skipped: usize,
}

/// Validates every document of `text`. Files a routes file names (certificates, keys) are
/// read relative to `base`, as `wsgate proxy` reads them relative to the routes file.
pub fn validate_documents(text: &str, base: &Path) -> Validation {
    let mut out = Validation::default();
    let docs = match split(text) {
        Ok(docs) => docs,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let mut stream = Stream {
        base,
        file_mode: docs.iter().any(|d| kind(d) == Some(PROXY_CONFIG_KIND)),
        seen: HashSet::new(),
        proxy_configs: 0,
    };
    for (i, doc) in docs.iter().enumerate() {
        match stream.check(&label(i, doc), doc) {
            Some(errors) => {
                out.checked += 1;
                out.errors.extend(errors);
            }
            None => out.skipped += 1,
        }
    }
    out
}

/// What one document's check needs to know about the others.
struct Stream<'a> {
    base: &'a Path,
    /// A `ProxyConfig` makes the stream a routes file: every route is checked as one.
    file_mode: bool,
    seen: HashSet<String>,
    proxy_configs: usize,
}

impl Stream<'_> {
    /// The errors of one document, or `None` for a kind wsgate does not read.
    fn check(&mut self, label: &str, doc: &Value) -> Option<Vec<DocumentError>> {
        let fail = |field: &str, message: String| DocumentError {
            document: label.to_string(),
            field: field.into(),
            message,
        };
        let api = doc.get("apiVersion").and_then(Value::as_str);
        Some(match (api, kind(doc)) {
            (Some(API_VERSION), Some(PROXY_CONFIG_KIND)) => {
                self.proxy_configs += 1;
                if self.proxy_configs > 1 {
                    let message = "only one ProxyConfig document is allowed";
                    vec![fail("kind", message.into())]
                } else {
                    routes_file::check(doc, self.base, &fail)
                }
            }
            (Some(API_VERSION), Some(ROUTE_KIND)) => {
                let id = format!("{}/{}", namespace(doc), name(doc).unwrap_or_default());
                if !self.seen.insert(id.clone()) {
                    let message = format!("route {id} is defined twice");
                    vec![fail("metadata.name", message)]
                } else if self.file_mode || !cluster::is_cluster_route(doc) {
                    routes_file::check(doc, self.base, &fail)
                } else {
                    cluster::check_route(doc, &fail)
                }
            }
            (Some(other), Some(ROUTE_KIND | PROXY_CONFIG_KIND)) => vec![fail(
                "apiVersion",
                format!("{other:?} is not supported (use {API_VERSION})"),
            )],
            (Some("networking.k8s.io/v1"), Some("Ingress")) => cluster::check_ingress(doc, &fail),
            (Some(API_VERSION), Some("WebSocketPolicy")) => cluster::check_policy(doc, &fail),
            (_, None) => vec![fail("kind", "is required".into())],
            _ => return None,
        })
    }
}

/// The documents of a YAML stream (empty ones left out), or where its YAML breaks.
fn split(text: &str) -> Result<Vec<Value>, DocumentError> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = <Value as serde::Deserialize>::deserialize(de).map_err(|e| DocumentError {
            document: format!("document {}", i + 1),
            field: String::new(),
            message: format!("invalid YAML: {e}"),
        })?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

fn kind(doc: &Value) -> Option<&str> {
    doc.get("kind").and_then(Value::as_str)
}

fn name(doc: &Value) -> Option<&str> {
    doc.get("metadata")?.get("name")?.as_str()
}

fn namespace(doc: &Value) -> &str {
    let ns = doc.get("metadata").and_then(|m| m.get("namespace"));
    ns.and_then(Value::as_str).unwrap_or("default")
}

/// `document N (Kind namespace/name)`, as much of it as the document has.
fn label(index: usize, doc: &Value) -> String {
    let n = index + 1;
    match (kind(doc), name(doc)) {
        (Some(kind), Some(name)) => format!("document {n} ({kind} {}/{name})", namespace(doc)),
        (Some(kind), None) => format!("document {n} ({kind})"),
        _ => format!("document {n}"),
    }
}

#[cfg(test)]
mod tests;
