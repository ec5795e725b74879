//! Secrets a route references (a TLS certificate, a ticket key). The references are read
//! from the spec's JSON form so they follow the spec as fields are added to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use wsgate_core::spec::{RouteSpec, TlsMinVersion};
use wsgate_core::table::{Backend, Route, Rule, TlsCert, TlsVersion};

use super::objects::ObjectKey;
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
            Some(secret) if !tls && ticket_key(secret, spec).is_none() => Some((
                reason::INVALID_SECRET,
                format!(
                    "secret {key} has no data key {:?} holding the ticket key",
                    ticket_key_name(spec)
                ),
            )),
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

/// Stands in for a ticket key whose Secret is unusable: `check` then makes every backend of
/// the route answer 503, so no ticket is ever verified against it.
const UNUSABLE_TICKET_KEY: &str = "wsgate: the ticket key Secret is not available";

/// The data key of `auth.ticket.secretRef` (default `key`).
fn ticket_key_name(spec: &RouteSpec) -> &str {
    spec.auth
        .as_ref()
        .and_then(|a| a.ticket.as_ref())
        .and_then(|t| t.secret_ref.as_ref())
        .and_then(|r| r.key.as_deref())
        .unwrap_or("key")
}

/// The ticket key held by `secret`, without a trailing newline.
fn ticket_key(secret: &Secret, spec: &RouteSpec) -> Option<String> {
    let bytes = secret.data.as_ref()?.get(ticket_key_name(spec))?;
    let text = String::from_utf8(bytes.0.clone()).ok()?;
    Some(text.trim_end_matches(['\n', '\r']).to_string())
}

/// The data plane never reads Secrets: the key named by `auth.ticket.secretRef` is put into
/// the spec as an inline `key` before it is compiled. Returns the spec unchanged when it
/// references no ticket Secret.
pub fn inline_ticket_key(
    secrets: &BTreeMap<ObjectKey, Secret>,
    namespace: &str,
    spec: &RouteSpec,
) -> Option<RouteSpec> {
    let name = spec
        .auth
        .as_ref()?
        .ticket
        .as_ref()?
        .secret_ref
        .as_ref()?
        .name
        .clone();
    let key = secrets
        .get(&ObjectKey::new(namespace, &name))
        .and_then(|s| ticket_key(s, spec))
        .unwrap_or_else(|| UNUSABLE_TICKET_KEY.to_string());
    let mut inlined = spec.clone();
    let ticket = inlined.auth.as_mut()?.ticket.as_mut()?;
    ticket.secret_ref = None;
    ticket.key = Some(key);
    Some(inlined)
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
