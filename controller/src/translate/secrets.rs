//! Secrets a route references (a TLS certificate, a ticket key). The references are read
//! from the spec's JSON form so they follow the spec as fields are added to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use wsgate_proxy::spec::{RouteSpec, TlsMinVersion};
use wsgate_proxy::table::{Backend, Route, Rule, TlsCert, TlsVersion};

use super::ObjectKey;
use super::report::{Report, reason};

/// Type of Secrets that hold a certificate and key.
pub const TLS_SECRET_TYPE: &str = "kubernetes.io/tls";

/// Where a Secret is referenced, and whether it must be a TLS Secret.
const REFERENCES: [(&str, bool); 2] = [
    ("/tls/secretName", true),
    ("/auth/ticket/secretRef/name", false),
];

/// Names of the Secrets `spec` references, with whether each must be a TLS Secret.
pub fn referenced(spec: &RouteSpec) -> Vec<(String, bool)> {
    let Ok(json) = serde_json::to_value(spec) else {
        return Vec::new();
    };
    REFERENCES
        .iter()
        .filter_map(|(pointer, tls)| {
            let name = json.pointer(pointer)?.as_str()?;
            Some((name.to_string(), *tls))
        })
        .collect()
}

/// Checks the Secrets of `spec` and fills the route's certificate from its TLS Secret (so a
/// rotated Secret makes a new table); when one is missing or unusable every backend of
/// `route` becomes invalid (503) and `report` says why.
pub fn check(
    secrets: &BTreeMap<ObjectKey, Secret>,
    spec: &RouteSpec,
    mut route: Route,
    report: &mut Report,
) -> Route {
    let mut broken = None;
    for (name, tls) in referenced(spec) {
        let key = ObjectKey::new(&route.id.namespace, &name);
        let problem = match secrets.get(&key) {
            None => Some((reason::SECRET_NOT_FOUND, format!("secret {key} not found"))),
            Some(secret) if tls && !is_tls(secret) => Some((
                reason::INVALID_SECRET,
                format!("secret {key} is not of type {TLS_SECRET_TYPE} with tls.crt and tls.key"),
            )),
            Some(secret) => {
                if tls {
                    route.tls = certificate(secret, spec).map(Arc::new);
                }
                None
            }
        };
        if let Some((why, message)) = problem {
            report.unresolved(why, message.clone());
            broken.get_or_insert(message);
        }
    }
    match broken {
        None => route,
        Some(reason) => invalidate(route, &reason),
    }
}

fn is_tls(secret: &Secret) -> bool {
    let data = secret.data.as_ref();
    secret.type_.as_deref() == Some(TLS_SECRET_TYPE)
        && data.is_some_and(|d| d.contains_key("tls.crt") && d.contains_key("tls.key"))
}

fn certificate(secret: &Secret, spec: &RouteSpec) -> Option<TlsCert> {
    let data = secret.data.as_ref()?;
    let min_version = match spec.tls.as_ref().and_then(|t| t.min_version) {
        Some(TlsMinVersion::Tls13) => TlsVersion::Tls13,
        Some(TlsMinVersion::Tls12) | None => TlsVersion::Tls12,
    };
    Some(TlsCert {
        cert_chain_pem: Arc::from(data.get("tls.crt")?.0.as_slice()),
        key_pem: Arc::from(data.get("tls.key")?.0.as_slice()),
        min_version,
    })
}

fn invalidate(route: Route, reason: &str) -> Route {
    let rules: Vec<Rule> = route
        .rules
        .iter()
        .map(|r| Rule {
            backend: Backend::Invalid {
                reason: reason.to_string(),
            },
            ..r.clone()
        })
        .collect();
    Route {
        rules: Arc::from(rules),
        ..route
    }
}
