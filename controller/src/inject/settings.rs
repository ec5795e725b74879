//! What a pod's `wsgate.dev/*` annotations ask of its sidecar. A few keys steer the injection
//! (which container and port wsgate fronts, its own ports, TLS, drain time); every other
//! `wsgate.dev/<field path>` sets a WebSocketRoute spec field, with the same meaning as on an
//! Ingress (`wsgate.dev/origins.allow: '["https://chat.example.com"]'`).

use std::collections::BTreeMap;

use crate::translate::annotations::{Policy, WSGATE_PREFIX, policy_from_annotations};

use super::error::InjectError;

/// `enabled` injects (the webhook's trigger); `disabled` keeps a pod out.
pub const INJECT: &str = "wsgate.dev/inject";
/// The routes file wsgate reads, generated from the annotations (projected into the sidecar).
pub const ROUTES: &str = "wsgate.dev/sidecar-routes";
/// What the injection changed in the app container, so `--uninject` can put it back.
pub const INJECTED: &str = "wsgate.dev/sidecar-injected";

const APP_CONTAINER: &str = "wsgate.dev/app-container";
const APP_PORT: &str = "wsgate.dev/app-port";
const HOSTNAMES: &str = "wsgate.dev/hostnames";
const PATHS: &str = "wsgate.dev/paths";
const TLS_SECRET: &str = "wsgate.dev/tls-secret";
const ROUTES_CONFIGMAP: &str = "wsgate.dev/routes-configmap";
const PROXY_PORT: &str = "wsgate.dev/proxy-port";
const HTTPS_PORT: &str = "wsgate.dev/https-port";
const ADMIN_PORT: &str = "wsgate.dev/admin-port";
const SHUTDOWN_TIMEOUT: &str = "wsgate.dev/shutdown-timeout";
/// Kubernetes' own choice of a pod's main container (kubectl logs/exec use it too).
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// Keys that steer the injection rather than set route spec fields.
const INJECTION_KEYS: &[&str] = &[
    INJECT,
    ROUTES,
    INJECTED,
    APP_CONTAINER,
    APP_PORT,
    HOSTNAMES,
    PATHS,
    TLS_SECRET,
    ROUTES_CONFIGMAP,
    PROXY_PORT,
    HTTPS_PORT,
    ADMIN_PORT,
    SHUTDOWN_TIMEOUT,
];

/// A container port named or numbered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    /// `3000`.
    Number(u16),
    /// `http`.
    Name(String),
}

/// The sidecar a pod asks for.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The container wsgate fronts (default: `kubectl.kubernetes.io/default-container`, the
    /// container that declares `app_port`, else the first).
    pub app_container: Option<String>,
    /// The app's port (default: the app container's only port).
    pub app_port: Option<PortRef>,
    /// Host names the route serves (empty: every host).
    pub hostnames: Vec<String>,
    /// Path prefixes forwarded to the app.
    pub paths: Vec<String>,
    /// A `kubernetes.io/tls` Secret: wss:// on `https_port`.
    pub tls_secret: Option<String>,
    /// A ConfigMap holding a whole routes file, used instead of the generated one.
    pub routes_configmap: Option<String>,
    /// wsgate's plaintext port.
    pub proxy_port: u16,
    /// wsgate's TLS port (with `tls_secret`).
    pub https_port: u16,
    /// wsgate's admin port (probes, metrics, `/drain`).
    pub admin_port: u16,
    /// `shutdownTimeout`: how long the preStop drain may take, in seconds.
    pub shutdown_seconds: u64,
    /// Route spec fields set by the other `wsgate.dev/*` annotations.
    pub policy: Policy,
}

impl Settings {
    /// Reads `annotations` (the workload's, overridden by the pod's).
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> Result<Self, InjectError> {
        let get = |key: &str| annotations.get(key).map(|v| v.trim().to_string());
        let list = |key: &str| -> Vec<String> {
            get(key)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let route_fields: BTreeMap<String, String> = annotations
            .iter()
            .filter(|(k, _)| k.starts_with(WSGATE_PREFIX) && !INJECTION_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let policy = policy_from_annotations(&route_fields, "default");
        if let Some(refusal) = policy.refusals.first() {
            return Err(InjectError::Annotation(refusal.clone()));
        }
        let mut paths = list(PATHS);
        if paths.is_empty() {
            paths.push("/".to_string());
        }
        if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
            return Err(annotation(PATHS, &format!("{bad:?} does not start with /")));
        }
        let settings = Settings {
            app_container: get(APP_CONTAINER).or_else(|| get(DEFAULT_CONTAINER)),
            app_port: get(APP_PORT).map(|v| port_ref(&v)).transpose()?,
            hostnames: list(HOSTNAMES),
            paths,
            tls_secret: get(TLS_SECRET).filter(|s| !s.is_empty()),
            routes_configmap: get(ROUTES_CONFIGMAP).filter(|s| !s.is_empty()),
            proxy_port: port(annotations, PROXY_PORT, 8080)?,
            https_port: port(annotations, HTTPS_PORT, 8443)?,
            admin_port: port(annotations, ADMIN_PORT, 9090)?,
            shutdown_seconds: shutdown_seconds(annotations)?,
            policy,
        };
        settings.check_ports()?;
        Ok(settings)
    }

    /// The ports wsgate listens on, with the annotation that sets each.
    pub fn own_ports(&self) -> Vec<(u16, &'static str)> {
        let mut ports = vec![(self.proxy_port, PROXY_PORT), (self.admin_port, ADMIN_PORT)];
        if self.tls_secret.is_some() {
            ports.push((self.https_port, HTTPS_PORT));
        }
        ports
    }

    fn check_ports(&self) -> Result<(), InjectError> {
        let ports = self.own_ports();
        for (i, (a, key)) in ports.iter().enumerate() {
            if let Some((_, other)) = ports[i + 1..].iter().find(|(b, _)| b == a) {
                return Err(annotation(key, &format!("port {a} is also {other}")));
            }
        }
        Ok(())
    }
}

/// An error about one annotation.
pub fn annotation(key: &str, message: &str) -> InjectError {
    InjectError::Annotation(format!("{key}: {message}"))
}

fn port_ref(value: &str) -> Result<PortRef, InjectError> {
    if let Ok(n) = value.parse::<u16>() {
        if n == 0 {
            return Err(annotation(APP_PORT, "port 0 is not a port"));
        }
        return Ok(PortRef::Number(n));
    }
    let valid = !value.is_empty()
        && value.len() <= 15
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(PortRef::Name(value.to_string()))
    } else {
        Err(annotation(
            APP_PORT,
            &format!("{value:?} is neither a port number nor a port name"),
        ))
    }
}

fn port(
    annotations: &BTreeMap<String, String>,
    key: &str,
    default: u16,
) -> Result<u16, InjectError> {
    match annotations.get(key) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(annotation(
                key,
                &format!("{v:?} is not a port number (1-65535)"),
            )),
        },
    }
}

fn shutdown_seconds(annotations: &BTreeMap<String, String>) -> Result<u64, InjectError> {
    let Some(v) = annotations.get(SHUTDOWN_TIMEOUT) else {
        return Ok(30);
    };
    let d = wsgate_core::spec::parse_duration(v.trim())
        .map_err(|e| annotation(SHUTDOWN_TIMEOUT, &e))?;
    if d.subsec_nanos() != 0 || d.as_secs() < 7 {
        return Err(annotation(
            SHUTDOWN_TIMEOUT,
            "must be whole seconds, at least 7s (closes are spread over all but the last 6s)",
        ));
    }
    Ok(d.as_secs())
}
