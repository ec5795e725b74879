//! Secrets a route references (a TLS certificate, a ticket key). The references are read
//! from the spec's JSON form so they follow the spec as fields are added to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use wsgate_core::spec::{RouteSpec, TicketAlgorithm, TlsMinVersion};
use wsgate_core::table::{Backend, Route, Rule, TlsCert, TlsVersion};

use super::objects::ObjectKey;
use super::report::{Report, reason};

/// Label that opts a non-TLS Secret (ticket key, public key, JWKS, CA bundle) in to being
/// read by wsgate. Other Secrets are never listed, cached or held in memory.
pub const SECRET_LABEL: &str = "wsgate.dev/secret";

/// Type of Secrets that hold a certificate and key.
pub const TLS_SECRET_TYPE: &str = "kubernetes.io/tls";

/// The Secrets wsgate holds: TLS Secrets, and other Secrets labelled for wsgate.
#[derive(Clone, Copy)]
pub struct Secrets<'a> {
    /// `kubernetes.io/tls` Secrets.
    pub tls: &'a BTreeMap<ObjectKey, Secret>,
    /// Labelled Secrets of other types.
    pub labelled: &'a BTreeMap<ObjectKey, Secret>,
}

impl Secrets<'_> {
    fn get(&self, key: &ObjectKey) -> Option<&Secret> {
        self.tls.get(key).or_else(|| self.labelled.get(key))
    }
}

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
    secrets: &Secrets<'_>,
    spec: &RouteSpec,
    mut route: Route,
    report: &mut Report,
) -> Route {
    let mut broken = None;
    for (name, tls) in referenced(spec) {
        let key = ObjectKey::new(&route.id.namespace, &name);
        let problem = match secrets.get(&key) {
            None if tls => Some((
                reason::SECRET_NOT_FOUND,
                format!("secret {key} of type {TLS_SECRET_TYPE} not found"),
            )),
            None => Some((
                reason::SECRET_NOT_FOUND,
                format!(
                    "secret {key} not found (wsgate reads Secrets other than TLS ones only when they carry the label {SECRET_LABEL}; kubectl -n {} label secret {name} {SECRET_LABEL}=true)",
                    key.namespace
                ),
            )),
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

/// Why the ticket Secret `spec` names cannot be read in `namespace`, if it cannot (a
/// WebSocketPolicy's Secret is read in the policy's namespace, before it reaches any route).
pub fn ticket_secret_problem(
    secrets: &Secrets<'_>,
    namespace: &str,
    spec: &RouteSpec,
) -> Option<String> {
    let (name, _) = referenced(spec).into_iter().find(|(_, tls)| !tls)?;
    let key = ObjectKey::new(namespace, &name);
    match secrets.get(&key) {
        None => Some(format!(
            "secret {key} not found (wsgate reads Secrets other than TLS ones only when they carry the label {SECRET_LABEL})"
        )),
        Some(secret) if ticket_key(secret, spec).is_none() => Some(format!(
            "secret {key} has no data key {:?} holding the ticket key",
            ticket_key_name(spec)
        )),
        Some(_) => None,
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

/// The data plane never reads Secrets: the material named by `auth.ticket.secretRef` is put
/// into the spec before it is compiled — an HS256 key as `key`, a JWKS document (JSON) as
/// `jwks`, a PEM public key as `publicKey`. Returns `None` when the spec references no ticket
/// Secret.
pub fn inline_ticket_key(
    secrets: &Secrets<'_>,
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
    match ticket.algorithm {
        TicketAlgorithm::HS256 => ticket.key = Some(key),
        _ if key.trim_start().starts_with('{') => ticket.jwks = Some(key),
        _ => ticket.public_key = Some(key),
    }
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

/// Certificate and CA material of a route in a cluster: certificates come from
/// `tls.secretName` (filled in by [`check`]), backend CA bundles from `caSecretRef`, and no
/// file named in a spec is ever opened.
pub struct SecretMaterial<'a> {
    /// The Secrets wsgate holds.
    pub secrets: Secrets<'a>,
    /// The route's namespace.
    pub namespace: &'a str,
}

impl wsgate_core::compile::tls::TlsMaterial for SecretMaterial<'_> {
    fn certificate(
        &self,
        spec: &wsgate_core::spec::TlsSpec,
    ) -> Result<Option<wsgate_core::compile::tls::PemPair>, (String, String)> {
        wsgate_core::compile::tls::NoFiles.certificate(spec)
    }

    fn ca_bundle(
        &self,
        spec: &wsgate_core::spec::BackendTlsSpec,
        field: &str,
    ) -> Result<Option<Arc<[u8]>>, (String, String)> {
        let Some(r) = &spec.ca_secret_ref else {
            return wsgate_core::compile::tls::NoFiles.ca_bundle(spec, field);
        };
        let key = ObjectKey::new(self.namespace, &r.name);
        let data_key = r.key.as_deref().unwrap_or("ca.crt");
        let bytes = self
            .secrets
            .get(&key)
            .and_then(|s| s.data.as_ref())
            .and_then(|d| d.get(data_key));
        match bytes {
            Some(b) => Ok(Some(Arc::from(b.0.as_slice()))),
            None => Err((
                format!("{field}.caSecretRef"),
                format!(
                    "secret {key} with data key {data_key:?} not found (a TLS Secret, or one labelled {SECRET_LABEL})"
                ),
            )),
        }
    }

    fn files_allowed(&self) -> bool {
        false
    }
}

/// The certificate of a `kubernetes.io/tls` Secret with both keys (TLS 1.2 and up), or
/// `None` when it is not one.
pub fn tls_certificate(secret: &Secret) -> Option<TlsCert> {
    if !is_tls(secret) {
        return None;
    }
    let data = secret.data.as_ref()?;
    Some(TlsCert {
        cert_chain_pem: Arc::from(data.get("tls.crt")?.0.as_slice()),
        key_pem: Arc::from(data.get("tls.key")?.0.as_slice()),
        min_version: TlsVersion::Tls12,
    })
}
