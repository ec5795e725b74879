//! The wsgate container of an injected pod: a native sidecar (an init container with
//! `restartPolicy: Always`) whose startup probe holds the app back until wsgate serves, with
//! the chart's resources and security context, and the volumes it reads.

use serde_json::{Value, json};

use super::routes::{ROUTES_DIR, TLS_DIR};
use super::settings::{ROUTES, Settings};

/// Name of the injected container.
pub const CONTAINER: &str = "wsgate";
/// Volume of the routes file.
pub const ROUTES_VOLUME: &str = "wsgate-routes";
/// Volume of the TLS Secret.
pub const TLS_VOLUME: &str = "wsgate-tls";
/// Name of wsgate's admin port.
pub const ADMIN_PORT_NAME: &str = "wsgate-admin";
/// Seconds wsgate needs after the app has exited (its sockets are already closed).
pub const SIDECAR_STOP_SECONDS: i64 = 5;

/// The default image: this wsgate's own version.
pub fn default_image() -> String {
    format!("ghcr.io/wsgate/wsgate:{}", env!("CARGO_PKG_VERSION"))
}

/// Requests and limits of the chart's sidecar (`charts/wsgate-sidecar` `wsgate.resources`).
pub fn resources() -> Value {
    json!({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}})
}

/// The chart's container security context: non-root, read-only, no privileges.
pub fn security_context() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// The wsgate container; its fronting port carries `front_name` (the app port's old name).
pub fn container(settings: &Settings, image: &str, front_name: Option<&str>) -> Value {
    let tls = settings.tls_secret.is_some();
    let mut ports = vec![json!({
        "name": if tls { "wsgate-http" } else { front_name.unwrap_or("wsgate-http") },
        "containerPort": settings.proxy_port,
        "protocol": "TCP",
    })];
    if tls {
        ports.push(json!({
            "name": front_name.unwrap_or("wsgate-https"),
            "containerPort": settings.https_port,
            "protocol": "TCP",
        }));
    }
    ports.push(
        json!({"name": ADMIN_PORT_NAME, "containerPort": settings.admin_port, "protocol": "TCP"}),
    );
    let mut mounts =
        vec![json!({"name": ROUTES_VOLUME, "mountPath": ROUTES_DIR, "readOnly": true})];
    if tls {
        mounts.push(json!({"name": TLS_VOLUME, "mountPath": TLS_DIR, "readOnly": true}));
    }
    let probe = |path: &str| json!({"httpGet": {"path": path, "port": ADMIN_PORT_NAME}});
    let mut startup = probe("/readyz");
    startup["periodSeconds"] = json!(1);
    startup["failureThreshold"] = json!(60);
    let mut readiness = probe("/readyz");
    readiness["periodSeconds"] = json!(5);
    json!({
        "name": CONTAINER,
        "image": image,
        "args": ["proxy", "--config", format!("{ROUTES_DIR}/routes.yaml"), "--log-format", "json"],
        // A native sidecar: starts before the app, stops after it.
        "restartPolicy": "Always",
        "ports": ports,
        "startupProbe": startup,
        "readinessProbe": readiness,
        "livenessProbe": probe("/healthz"),
        "resources": resources(),
        "securityContext": security_context(),
        "volumeMounts": mounts,
    })
}

/// The volumes the sidecar mounts: the routes (the named ConfigMap, or the generated file
/// projected from the pod's annotation) and the TLS Secret.
pub fn volumes(settings: &Settings) -> Vec<Value> {
    let routes = match &settings.routes_configmap {
        Some(name) => json!({"name": ROUTES_VOLUME, "configMap": {"name": name}}),
        None => json!({
            "name": ROUTES_VOLUME,
            "downwardAPI": {"items": [{
                "path": "routes.yaml",
                "fieldRef": {"fieldPath": format!("metadata.annotations['{ROUTES}']")},
            }]},
        }),
    };
    let mut volumes = vec![routes];
    if let Some(secret) = &settings.tls_secret {
        volumes.push(json!({"name": TLS_VOLUME, "secret": {"secretName": secret}}));
    }
    volumes
}

/// The preStop hook the app container gets: wsgate drains, the hook returns, then the app
/// gets SIGTERM. `httpGet` needs nothing in the app's image (and so can only GET).
pub fn drain_hook(settings: &Settings) -> Value {
    json!({"httpGet": {"path": "/drain", "port": settings.admin_port, "scheme": "HTTP"}})
}
