//! Documents in, documents out: finds the pod template of each Pod, Deployment,
//! StatefulSet, DaemonSet, ReplicaSet, Job and CronJob and injects (or uninjects) it; every
//! other document passes through unchanged.

use serde_json::Value;

use super::error::InjectError;
use super::pod::{self, annotations_of, string_map};
use super::settings::INJECT;

/// Which way to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Add (or refresh) the sidecar.
    Inject,
    /// Take it out.
    Uninject,
}

/// The documents written back, and what the user should know.
#[derive(Debug, Default)]
pub struct Output {
    /// The documents, YAML.
    pub text: String,
    /// Notes, each naming its document.
    pub warnings: Vec<String>,
    /// Pod templates injected or uninjected.
    pub changed: usize,
    /// Pod templates skipped (`wsgate.dev/inject: disabled`).
    pub skipped: usize,
}

/// Injects (or uninjects) every pod template in a multi-document YAML stream.
pub fn process(text: &str, mode: Mode, image: &str) -> Result<Output, InjectError> {
    let mut docs = crate::yaml::documents(text).map_err(|e| InjectError::Input(e.to_string()))?;
    let mut out = Output::default();
    for (index, doc) in docs.iter_mut().enumerate() {
        let label = label(doc, index);
        let in_doc = |e: InjectError| InjectError::Document {
            document: label.clone(),
            source: Box::new(e),
        };
        let Some((inherited, template)) = template_of(doc) else {
            continue;
        };
        match mode {
            Mode::Uninject => {
                if pod::uninject(template).map_err(in_doc)? {
                    out.changed += 1;
                }
            }
            Mode::Inject => {
                let mut merged = inherited.clone();
                merged.extend(annotations_of(template));
                if merged.get(INJECT).map(String::as_str) == Some("disabled") {
                    out.skipped += 1;
                    continue;
                }
                let warnings = pod::inject(template, &inherited, image).map_err(in_doc)?;
                out.warnings
                    .extend(warnings.into_iter().map(|w| format!("{label}: {w}")));
                out.changed += 1;
            }
        }
    }
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.text.push_str("---\n");
        }
        let yaml = crate::yaml::to_string(doc).map_err(|e| InjectError::Input(e.to_string()))?;
        out.text.push_str(&yaml);
    }
    Ok(out)
}

/// `Deployment chat (document 2)`.
fn label(doc: &Value, index: usize) -> String {
    let kind = doc["kind"].as_str().unwrap_or("object");
    match doc["metadata"]["name"].as_str() {
        Some(name) => format!("{kind} {name} (document {})", index + 1),
        None => format!("{kind} (document {})", index + 1),
    }
}

/// The workload's own annotations and its pod template, for the kinds that have one.
fn template_of(
    doc: &mut Value,
) -> Option<(std::collections::BTreeMap<String, String>, &mut Value)> {
    let inherited = string_map(&doc["metadata"]["annotations"]);
    let template = match doc["kind"].as_str()? {
        "Pod" => doc,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            doc.get_mut("spec")?.get_mut("template")?
        }
        "CronJob" => doc
            .get_mut("spec")?
            .get_mut("jobTemplate")?
            .get_mut("spec")?
            .get_mut("template")?,
        _ => return None,
    };
    let inherited = if template.get("kind").is_some() {
        // A Pod is its own template: nothing to inherit.
        std::collections::BTreeMap::new()
    } else {
        inherited
    };
    template.is_object().then_some((inherited, template))
}
