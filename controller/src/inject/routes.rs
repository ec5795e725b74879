//! The routes file of an injected sidecar, generated from the pod's annotations: a
//! ProxyConfig (listeners, drain time) and one WebSocketRoute from wsgate to the app on
//! loopback. It is checked the way `wsgate proxy` will read it, so a pod is never injected
//! with a sidecar that would refuse to start.

use serde_json::{Map, Value, json};

use crate::translate::decode::decode_spec;

use super::error::InjectError;
use super::settings::Settings;

/// Where the sidecar mounts its routes (a directory: updates are followed).
pub const ROUTES_DIR: &str = "/etc/wsgate";
/// Where the sidecar mounts the TLS Secret.
pub const TLS_DIR: &str = "/etc/wsgate-tls";

/// The routes file for a sidecar fronting `app_port` with a route named `name`.
pub fn routes_file(settings: &Settings, name: &str, app_port: u16) -> Result<String, InjectError> {
    let mut spec = settings.policy.fields.clone();
    if !settings.hostnames.is_empty() {
        spec.insert("hostnames".into(), json!(settings.hostnames));
    }
    let rules: Vec<Value> = settings
        .paths
        .iter()
        .map(|p| {
            json!({
                "path": {"type": "PathPrefix", "value": p},
                "backend": {"addresses": [format!("127.0.0.1:{app_port}")]},
            })
        })
        .collect();
    spec.insert("rules".into(), Value::Array(rules));
    // The spec as the route's annotations wrote it; an error names the annotation.
    if let Err(refusal) = decode_spec(Value::Object(spec.clone()), &settings.policy.provenance).spec
    {
        return Err(InjectError::Annotation(refusal.message));
    }
    let mut listen = Map::new();
    listen.insert(
        "http".into(),
        json!(format!("0.0.0.0:{}", settings.proxy_port)),
    );
    listen.insert(
        "admin".into(),
        json!(format!("0.0.0.0:{}", settings.admin_port)),
    );
    let proxy_config = |listen: Map<String, Value>| {
        json!({
            "apiVersion": "wsgate.dev/v1alpha1",
            "kind": "ProxyConfig",
            "metadata": {"name": "sidecar"},
            "spec": {"listen": listen, "shutdownTimeout": format!("{}s", settings.shutdown_seconds)},
        })
    };
    let route = |spec: Map<String, Value>| {
        json!({
            "apiVersion": "wsgate.dev/v1alpha1",
            "kind": "WebSocketRoute",
            "metadata": {"name": name},
            "spec": spec,
        })
    };
    // Checked as `wsgate proxy` reads it, before the certificate (only in the pod) is named.
    let checked = render(&[proxy_config(listen.clone()), route(spec.clone())])?;
    wsgate_core::config::load_str(&checked).map_err(|e| InjectError::Routes(format!("{e}")))?;
    if settings.tls_secret.is_some() {
        listen.insert(
            "https".into(),
            json!(format!("0.0.0.0:{}", settings.https_port)),
        );
        spec.insert(
            "tls".into(),
            json!({"certFile": format!("{TLS_DIR}/tls.crt"), "keyFile": format!("{TLS_DIR}/tls.key")}),
        );
    }
    render(&[proxy_config(listen), route(spec)])
}

fn render(documents: &[Value]) -> Result<String, InjectError> {
    let mut out = String::new();
    for (i, doc) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&crate::yaml::to_string(doc).map_err(|e| InjectError::Routes(e.to_string()))?);
    }
    Ok(out)
}
