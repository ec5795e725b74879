//! Kubernetes objects for the scenario, as JSON.

use serde_json::{Value, json};

/// Namespace of every object in the scenario.
pub const NS: &str = "apps";

/// A Service `name` with one port `ws` (3000).
pub fn service(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.10",
                 "ports": [{"name": "ws", "port": 3000, "protocol": "TCP"}]},
    })
}

/// The EndpointSlice of Service `service`: one ready endpoint 127.0.0.1:`port`.
pub fn endpoint_slice(service: &str, port: u16) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-abc"), "namespace": NS,
                     "labels": {"kubernetes.io/service-name": service,
                                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "ports": [{"name": "ws", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}],
    })
}

/// A `kubernetes.io/tls` Secret (written with `stringData`, as kubectl users do).
pub fn tls_secret(name: &str, chain_pem: &str, key_pem: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": NS},
        "stringData": {"tls.crt": chain_pem, "tls.key": key_pem},
    })
}

/// A WebSocketRoute for `host` to Service `service` port 3000, with TLS from `secret`.
pub fn route(name: &str, host: &str, service: &str, secret: &str) -> Value {
    json!({
        "apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketRoute",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "hostnames": [host],
            "tls": {"secretName": secret},
            "rules": [{"path": {"type": "PathPrefix", "value": "/"},
                       "backend": {"service": {"name": service, "port": 3000}}}],
        },
    })
}
