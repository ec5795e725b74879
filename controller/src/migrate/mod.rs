//! `wsgate migrate`: ingress-nginx Ingresses as WebSocketRoutes, translated by the
//! controller's own Ingress translation (so the result serves what the Ingress would have
//! served through wsgate), with a verdict on every annotation: mapped, mapped with a
//! difference (and what differs), no effect (and why), or not mapped (and why). Nothing is
//! dropped without a line saying so.
//!
//! ```text
//!  YAML stream ─> Ingress ─ annotations judged ─ not-mapped ones set aside ─> translate_ingress
//!                   │                                                         └─> WebSocketRoute per host
//!                   └─ other kinds: skipped, counted
//! ```

mod findings;
mod gateway;

use findings::CERT_MANAGER;
pub use findings::{Finding, Outcome};

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::Ingress;

use crate::crd::{WebSocketRoute, WebSocketRouteSpec};
use crate::translate::ingress::translate_ingress;

/// What a migration produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Migration {
    /// The wsgate resources, as YAML (each Ingress's report as comments above its routes).
    pub yaml: String,
    /// Every annotation's verdict, and every Ingress that could not be converted.
    pub findings: Vec<Finding>,
    /// Ingresses converted.
    pub ingresses: usize,
    /// Documents of other kinds, left out.
    pub skipped: usize,
}

impl Migration {
    /// Whether anything the Ingresses asked for is not in the output.
    pub fn loses_something(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.outcome == Outcome::NotMapped)
    }
}

/// Input that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The text is not YAML.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// A document says it is an Ingress but does not decode as one.
    #[error("document {document}: not a valid Ingress: {message}")]
    Ingress {
        /// 1-based position.
        document: usize,
        /// What does not fit.
        message: String,
    },
}

/// What the Ingresses become.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// WebSocketRoutes.
    Routes,
    /// HTTPRoutes and WebSocketPolicies attached to a Gateway of this name in each
    /// namespace (written too, with the GatewayClass `wsgate`).
    Gateway(String),
}

/// Converts every `networking.k8s.io/v1` Ingress of `text` into `form`.
pub fn migrate(text: &str, form: &Form) -> Result<Migration, MigrateError> {
    let docs = crate::yaml::documents(text).map_err(|e| MigrateError::Yaml(e.to_string()))?;
    let mut out = Migration::default();
    let mut plan = gateway::Plan::default();
    let mut namespaces: Vec<String> = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let is_ingress = doc["kind"] == "Ingress" && doc["apiVersion"] == "networking.k8s.io/v1";
        if !is_ingress {
            out.skipped += 1;
            continue;
        }
        let ingress: Ingress = serde_json::from_value(doc).map_err(|e| MigrateError::Ingress {
            document: i + 1,
            message: e.to_string(),
        })?;
        let ns = ingress.metadata.namespace.clone();
        let ns = ns.unwrap_or_else(|| "default".into());
        if !namespaces.contains(&ns) {
            namespaces.push(ns);
        }
        let (yaml, findings) = convert(ingress, form, &mut plan);
        out.yaml.push_str(&yaml);
        out.findings.extend(findings);
        out.ingresses += 1;
    }
    if let Form::Gateway(name) = form
        && out.ingresses > 0
    {
        out.yaml
            .push_str("# The Gateway of each namespace, and its class\n");
        let docs = gateway::gateways(name, &namespaces, &plan);
        out.yaml.push_str(&findings::documents(&docs));
    }
    Ok(out)
}

/// One Ingress as YAML (report comments, then its routes) and its findings.
fn convert(mut ingress: Ingress, form: &Form, plan: &mut gateway::Plan) -> (String, Vec<Finding>) {
    let ns = ingress
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = ingress.metadata.name.clone().unwrap_or_default();
    ingress.metadata.namespace = Some(ns.clone());
    let label = format!("{ns}/{name}");
    let annotations = ingress.metadata.annotations.clone().unwrap_or_default();
    let mut verdicts: BTreeMap<String, (Outcome, String)> = annotations
        .keys()
        .map(|k| (k.clone(), findings::judge(k)))
        .collect();
    let (routes, failure) = translate_setting_aside(&mut ingress, &annotations, &mut verdicts);
    let mut found: Vec<Finding> = verdicts
        .into_iter()
        .map(|(annotation, (outcome, note))| Finding {
            ingress: label.clone(),
            annotation,
            outcome,
            note,
        })
        .collect();
    if let Some(message) = failure {
        found.push(Finding {
            ingress: label.clone(),
            annotation: String::new(),
            outcome: Outcome::NotMapped,
            note: format!("the Ingress could not be converted: {message}"),
        });
    }
    let yaml = match form {
        Form::Routes => findings::render(&label, &found, &routes),
        Form::Gateway(name) => {
            for f in found
                .iter_mut()
                .filter(|f| f.annotation.starts_with(CERT_MANAGER))
            {
                f.outcome = Outcome::Mapped;
                f.note = format!(
                    "on the Gateway {name}, whose listener certificates cert-manager's gateway-shim then issues"
                );
                let value = annotations.get(&f.annotation).cloned().unwrap_or_default();
                let gw = plan.annotations.entry(ns.clone()).or_default();
                gw.insert(f.annotation.clone(), value);
            }
            let docs = gateway_docs(&label, &routes, name, plan, &mut found);
            findings::render(&label, &found, &docs)
        }
    };
    (yaml, found)
}

/// The Gateway API form of `routes`; what it cannot carry joins `found`.
fn gateway_docs(
    label: &str,
    routes: &[WebSocketRoute],
    name: &str,
    plan: &mut gateway::Plan,
    found: &mut Vec<Finding>,
) -> Vec<serde_json::Value> {
    let mut docs = Vec::new();
    for route in routes {
        let converted = gateway::convert(route, name, plan);
        let route_name = route.metadata.name.clone().unwrap_or_default();
        found.extend(converted.lost.into_iter().map(|(field, why)| {
            let (outcome, note) = match why.strip_prefix("differs: ") {
                Some(what) => (Outcome::Differs, what.to_string()),
                None => (Outcome::NotMapped, why),
            };
            Finding {
                ingress: label.to_string(),
                annotation: format!("HTTPRoute {route_name} {field}"),
                outcome,
                note,
            }
        }));
        docs.extend(converted.docs);
    }
    docs
}

/// Translates `ingress` without its not-mapped annotations. A value the translation refuses
/// sets its annotation aside too and the Ingress is translated again (at most once per
/// annotation); returns the routes, or the refusal no annotation explains.
fn translate_setting_aside(
    ingress: &mut Ingress,
    annotations: &BTreeMap<String, String>,
    verdicts: &mut BTreeMap<String, (Outcome, String)>,
) -> (Vec<WebSocketRoute>, Option<String>) {
    let mut failure = None;
    for _ in 0..=annotations.len() {
        let kept: BTreeMap<String, String> = annotations
            .iter()
            .filter(|(k, _)| {
                verdicts
                    .get(*k)
                    .is_none_or(|(o, _)| *o != Outcome::NotMapped)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ingress.metadata.annotations = Some(kept);
        let spec = ingress.spec.get_or_insert_with(Default::default);
        spec.ingress_class_name = Some(crate::crd::DEFAULT_ROUTE_CLASS.into());
        let message = match attempt(ingress) {
            Ok((routes, notes)) => {
                for (key, note) in notes {
                    if let Some(v) = verdicts.get_mut(&key) {
                        *v = (Outcome::Differs, note);
                    }
                }
                return (routes, None);
            }
            Err(message) => message,
        };
        let blamed: Vec<String> = annotations
            .keys()
            .filter(|k| message.contains(k.as_str()))
            .filter(|k| {
                verdicts
                    .get(*k)
                    .is_some_and(|(o, _)| *o != Outcome::NotMapped)
            })
            .cloned()
            .collect();
        failure = Some(message.clone());
        if blamed.is_empty() {
            break;
        }
        for key in blamed {
            verdicts.insert(key, (Outcome::NotMapped, message.clone()));
        }
    }
    (Vec::new(), failure)
}

/// (annotation, what differs) of annotations mapped with a difference.
type Notes = Vec<(String, String)>;

/// The routes of one translation, with the notes of annotations mapped with a difference;
/// or the refusal's message.
fn attempt(ingress: &Ingress) -> Result<(Vec<WebSocketRoute>, Notes), String> {
    let translated = translate_ingress(ingress).map_err(|r| r.message)?;
    let notes = translated
        .warnings
        .iter()
        .filter_map(|w| w.split_once(": "))
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect();
    let count = translated.routes.len();
    let mut routes = Vec::with_capacity(count);
    for r in translated.routes {
        let spec = r.decoded.spec.map_err(|refusal| refusal.message)?;
        let (ingress_name, host) = r.id.name.split_once('/').unwrap_or((&r.id.name, ""));
        let name = if count == 1 {
            ingress_name.to_string()
        } else {
            route_name(ingress_name, host)
        };
        let mut route = WebSocketRoute::new(
            &name,
            WebSocketRouteSpec {
                ingress_class_name: None,
                route: spec,
            },
        );
        route.metadata.namespace = Some(r.id.namespace.clone());
        routes.push(route);
    }
    Ok((routes, notes))
}

/// `<ingress>-<host>` as a Kubernetes name: dots to dashes, `*` as `any`.
fn route_name(ingress: &str, host: &str) -> String {
    let host = host.replace('*', "any").replace('.', "-");
    let mut name = format!("{ingress}-{host}").to_ascii_lowercase();
    name.truncate(253);
    name.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests;
