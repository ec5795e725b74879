//! Injection into one pod template (a Pod's `metadata` and `spec`, or a workload's
//! `spec.template`), and its exact reverse. Injecting an injected pod first takes the old
//! sidecar out, so injecting twice changes nothing and changed annotations take effect.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::InjectError;
use super::routes::routes_file;
use super::settings::{INJECTED, PortRef, ROUTES, Settings};
use super::sidecar::{self, CONTAINER, ROUTES_VOLUME, SIDECAR_STOP_SECONDS, TLS_VOLUME};

/// Seconds Kubernetes gives a pod that names no grace period: the app's own stop time.
const DEFAULT_GRACE_SECONDS: i64 = 30;
const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];

/// What the injection changed in the pod, kept in an annotation for `--uninject`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Changes {
    container: String,
    port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    probes: Vec<String>,
    #[serde(default)]
    pre_stop: bool,
    #[serde(default)]
    grace: Option<i64>,
}

/// Adds the sidecar to `template`; `inherited` are the workload's annotations (the
/// template's own win). Returns warnings worth a user's attention.
pub fn inject(
    template: &mut Value,
    inherited: &BTreeMap<String, String>,
    image: &str,
) -> Result<Vec<String>, InjectError> {
    uninject(template)?;
    let mut annotations = inherited.clone();
    annotations.extend(annotations_of(template));
    let settings = Settings::from_annotations(&annotations)?;
    let template = template
        .as_object_mut()
        .ok_or_else(|| pod_error("is not an object"))?;
    let spec = template
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| pod_error("has no pod spec"))?;
    let app = app_container(spec, &settings)?;
    let port = app_port(&spec["containers"][app], &settings)?;
    check_free(spec, &settings)?;
    let container = spec
        .get_mut("containers")
        .and_then(Value::as_array_mut)
        .and_then(|c| c.get_mut(app))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| pod_error("has a container that is not an object"))?;
    let (mut changes, warnings) = change_app(container, &settings, port);
    let sidecar = sidecar::container(&settings, image, changes.port_name.as_deref());
    // Last of the init containers: it starts after the others (other sidecars included) and,
    // sidecars stopping in reverse order, stops before them.
    with_array(spec, "initContainers", |list| list.push(sidecar));
    with_array(spec, "volumes", |list| {
        list.extend(sidecar::volumes(&settings))
    });
    // The preStop drain, then the app's own stop, then wsgate's.
    changes.grace = spec
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    let grace = changes.grace.unwrap_or(DEFAULT_GRACE_SECONDS)
        + i64::try_from(settings.shutdown_seconds).unwrap_or(i64::MAX / 2)
        + SIDECAR_STOP_SECONDS;
    spec.insert("terminationGracePeriodSeconds".into(), json!(grace));
    let routes = match settings.routes_configmap {
        None => Some(routes_file(&settings, &changes.container, port)?),
        Some(_) => None,
    };
    let state = serde_json::to_string(&changes).map_err(|e| pod_error(&e.to_string()))?;
    with_object(template, "metadata", |meta| {
        with_object(meta, "annotations", |notes| {
            if let Some(routes) = routes {
                notes.insert(ROUTES.into(), json!(routes));
            }
            notes.insert(INJECTED.into(), json!(state));
        })
    });
    Ok(warnings)
}

/// Fronts the app container's `port`: its name moves to wsgate, probes that named it use
/// the number, and the drain preStop is added.
fn change_app(
    container: &mut Map<String, Value>,
    settings: &Settings,
    port: u16,
) -> (Changes, Vec<String>) {
    let mut warnings = Vec::new();
    let mut changes = Changes {
        container: container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        port,
        ..Changes::default()
    };
    changes.port_name = take_port_name(container, port);
    if let Some(name) = &changes.port_name {
        changes.probes = probes_to_number(container, name, port);
    } else {
        let front = if settings.tls_secret.is_some() {
            settings.https_port
        } else {
            settings.proxy_port
        };
        warnings.push(format!(
            "container {:?}: port {port} has no name for a Service to find wsgate by; point the Service's targetPort at wsgate's port {front}",
            changes.container
        ));
    }
    with_object(container, "lifecycle", |lifecycle| {
        if lifecycle.contains_key("preStop") {
            warnings.push(format!(
                "container {:?} has a preStop hook of its own: it is kept, so the app may stop before wsgate has drained its WebSockets",
                changes.container
            ));
        } else {
            lifecycle.insert("preStop".into(), sidecar::drain_hook(settings));
            changes.pre_stop = true;
        }
    });
    (changes, warnings)
}

/// Takes the sidecar out of `template`, putting back what the injection changed. Returns
/// whether it was injected.
pub fn uninject(template: &mut Value) -> Result<bool, InjectError> {
    let Some(state) = annotations_of(template).remove(INJECTED) else {
        return Ok(false);
    };
    let changes: Changes = serde_json::from_str(&state)
        .map_err(|e| pod_error(&format!("annotation {INJECTED} is not readable: {e}")))?;
    if let Some(spec) = template.get_mut("spec").and_then(Value::as_object_mut) {
        remove_named(spec, "initContainers", &[CONTAINER]);
        remove_named(spec, "volumes", &[ROUTES_VOLUME, TLS_VOLUME]);
        match changes.grace {
            Some(g) => spec.insert("terminationGracePeriodSeconds".into(), json!(g)),
            None => spec.remove("terminationGracePeriodSeconds"),
        };
        if let Some(app) = containers(spec)
            .filter_map(Value::as_object_mut)
            .find(|c| c.get("name") == Some(&json!(changes.container)))
        {
            restore_app(app, &changes);
        }
    }
    if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        with_object(meta, "annotations", |notes| {
            notes.remove(ROUTES);
            notes.remove(INJECTED);
        });
    }
    Ok(true)
}

/// The template's own annotations.
pub fn annotations_of(template: &Value) -> BTreeMap<String, String> {
    string_map(&template["metadata"]["annotations"])
}

/// A `map[string]string` field as a map (other values are ignored).
pub fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn restore_app(app: &mut Map<String, Value>, changes: &Changes) {
    if let Some(name) = &changes.port_name {
        let ports = app.get_mut("ports").and_then(Value::as_array_mut);
        if let Some(p) = ports
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
            .find(|p| p.get("containerPort") == Some(&json!(changes.port)))
        {
            p.insert("name".into(), json!(name));
        }
        for probe in &changes.probes {
            if let Some(handler) = probe_handler(app, probe)
                && handler.get("port") == Some(&json!(changes.port))
            {
                handler.insert("port".into(), json!(name));
            }
        }
    }
    if changes.pre_stop {
        with_object(app, "lifecycle", |lifecycle| lifecycle.remove("preStop"));
    }
}

fn app_container(spec: &Map<String, Value>, settings: &Settings) -> Result<usize, InjectError> {
    let list = spec
        .get("containers")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| pod_error("has no containers"))?;
    if let Some(name) = &settings.app_container {
        return list
            .iter()
            .position(|c| c["name"] == name.as_str())
            .ok_or_else(|| {
                pod_error(&format!(
                    "has no container {name:?} (wsgate.dev/app-container)"
                ))
            });
    }
    let declares = |c: &Value| match &settings.app_port {
        Some(PortRef::Number(n)) => ports_of(c).any(|p| p["containerPort"] == *n),
        Some(PortRef::Name(name)) => ports_of(c).any(|p| p["name"] == name.as_str()),
        None => false,
    };
    Ok(list.iter().position(declares).unwrap_or(0))
}

fn app_port(container: &Value, settings: &Settings) -> Result<u16, InjectError> {
    let number = |p: &Value| {
        p["containerPort"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
    };
    let name = container["name"].as_str().unwrap_or_default();
    match &settings.app_port {
        Some(PortRef::Number(n)) => Ok(*n),
        Some(PortRef::Name(wanted)) => ports_of(container)
            .find(|p| p["name"] == wanted.as_str())
            .and_then(number)
            .ok_or_else(|| {
                pod_error(&format!(
                    "container {name:?} has no port named {wanted:?} (wsgate.dev/app-port)"
                ))
            }),
        None => {
            let ports: Vec<u16> = ports_of(container).filter_map(number).collect();
            match ports[..] {
                [one] => Ok(one),
                [] => Err(pod_error(&format!(
                    "container {name:?} declares no port: set wsgate.dev/app-port"
                ))),
                _ => Err(pod_error(&format!(
                    "container {name:?} declares several ports: choose one with wsgate.dev/app-port"
                ))),
            }
        }
    }
}

/// wsgate's ports and names must not be taken by the pod already.
fn check_free(spec: &Map<String, Value>, settings: &Settings) -> Result<(), InjectError> {
    for c in containers_ref(spec) {
        if c["name"] == CONTAINER {
            return Err(pod_error(
                "already has a container named wsgate that wsgate did not inject",
            ));
        }
        for (port, key) in settings.own_ports() {
            if ports_of(c).any(|p| p["containerPort"] == port) {
                return Err(super::settings::annotation(
                    key,
                    &format!(
                        "port {port} is taken by container {}; choose another",
                        c["name"]
                    ),
                ));
            }
        }
    }
    let volumes = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for v in volumes {
        if v["name"] == ROUTES_VOLUME || v["name"] == TLS_VOLUME {
            return Err(pod_error(&format!(
                "already has a volume named {}",
                v["name"]
            )));
        }
    }
    Ok(())
}

fn take_port_name(container: &mut Map<String, Value>, port: u16) -> Option<String> {
    let ports = container.get_mut("ports")?.as_array_mut()?;
    let entry = ports
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|p| p.get("containerPort") == Some(&json!(port)))?;
    let name = entry.remove("name")?;
    name.as_str().map(str::to_string)
}

/// The app's probes that name the moved port would now probe wsgate: give them the number.
fn probes_to_number(container: &mut Map<String, Value>, name: &str, port: u16) -> Vec<String> {
    let mut changed = Vec::new();
    for probe in PROBES {
        if let Some(handler) = probe_handler(container, probe)
            && handler.get("port") == Some(&json!(name))
        {
            handler.insert("port".into(), json!(port));
            changed.push(probe.to_string());
        }
    }
    changed
}

fn probe_handler<'a>(
    container: &'a mut Map<String, Value>,
    probe: &str,
) -> Option<&'a mut Map<String, Value>> {
    let p = container.get_mut(probe)?.as_object_mut()?;
    let kind = ["httpGet", "tcpSocket"]
        .into_iter()
        .find(|h| p.contains_key(*h))?;
    p.get_mut(kind)?.as_object_mut()
}

fn ports_of(container: &Value) -> impl Iterator<Item = &Value> {
    container["ports"].as_array().into_iter().flatten()
}

fn containers(spec: &mut Map<String, Value>) -> impl Iterator<Item = &mut Value> {
    spec.get_mut("containers")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

fn containers_ref(spec: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers"]
        .into_iter()
        .filter_map(|k| spec.get(k).and_then(Value::as_array))
        .flatten()
}

fn remove_named(spec: &mut Map<String, Value>, key: &str, names: &[&str]) {
    if let Some(list) = spec.get_mut(key).and_then(Value::as_array_mut) {
        list.retain(|item| !names.iter().any(|n| item["name"] == *n));
        if list.is_empty() {
            spec.remove(key);
        }
    }
}

/// Runs `f` on the object at `key` (created, or replacing a non-object); an object left
/// empty is removed.
fn with_object<R>(
    map: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    let mut inner = match map.remove(key) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let result = f(&mut inner);
    if !inner.is_empty() {
        map.insert(key.to_string(), Value::Object(inner));
    }
    result
}

/// Runs `f` on the array at `key` (created, or replacing a non-array).
fn with_array<R>(
    map: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Vec<Value>) -> R,
) -> R {
    let mut inner = match map.remove(key) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let result = f(&mut inner);
    map.insert(key.to_string(), Value::Array(inner));
    result
}

fn pod_error(message: &str) -> InjectError {
    InjectError::Pod(message.to_string())
}
