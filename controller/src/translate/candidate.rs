//! Candidates: every WebSocketRoute of our class and every route made from an Ingress of our
//! IngressClass, each with what decides its precedence (oldest first).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use wsgate_core::spec::RouteSpec;
use wsgate_core::table::RouteId;

use super::decode::Refusal;
use super::report::{SourceKind, SourceRef};
use super::{Index, ObjectKey, ingress};

/// Precedence: creation time, then namespace and name, then position in the object.
pub type Order = (Option<Time>, String, String, usize);

/// A route waiting for admission.
pub struct Candidate {
    pub source: SourceRef,
    pub order: Order,
    pub uid: Option<String>,
    pub generation: Option<i64>,
    pub id: RouteId,
    pub spec: Result<RouteSpec, Refusal>,
    pub warnings: Vec<String>,
    /// Gateway API only: the listener's certificate, and rules (by index) whose backends
    /// cannot take requests, with why. Tenancy is then the Gateway's `allowedRoutes`.
    pub gateway: Option<GatewayExtras>,
}

/// What a Gateway API candidate carries besides its spec.
pub struct GatewayExtras {
    pub cert: Option<std::sync::Arc<wsgate_core::table::TlsCert>>,
    /// Rules (by index) whose backend is replaced: 503 (unusable) or 500 (misconfigured).
    pub unusable_rules: Vec<(usize, wsgate_core::table::Backend)>,
    /// The wsgate listener of the Gateway listener it came from (`HTTPS`: TLS, `HTTP`:
    /// plaintext).
    pub listeners: wsgate_core::table::Listeners,
}

pub(super) fn order(meta: &ObjectMeta, index: usize) -> Order {
    let key = ObjectKey::of(meta);
    (
        meta.creation_timestamp.clone(),
        key.namespace,
        key.name,
        index,
    )
}

/// The source of an object's report.
pub fn source(kind: SourceKind, key: &ObjectKey) -> SourceRef {
    SourceRef {
        kind,
        namespace: key.namespace.clone(),
        name: key.name.clone(),
    }
}

impl Index {
    /// WebSocketRoutes whose class is ours; routes of other installations get no report.
    pub(super) fn route_candidates(&self) -> Vec<Candidate> {
        self.routes
            .values()
            .filter(|r| crate::crd::route_class(&r.spec) == self.ingress_class)
            .map(|r| {
                let key = ObjectKey::of(&r.metadata);
                Candidate {
                    source: source(SourceKind::Route, &key),
                    order: order(&r.metadata, 0),
                    uid: r.metadata.uid.clone(),
                    generation: r.metadata.generation,
                    id: RouteId {
                        namespace: key.namespace,
                        name: key.name,
                    },
                    spec: Ok(r.spec.route.clone()),
                    warnings: Vec::new(),
                    gateway: None,
                }
            })
            .collect()
    }

    /// One candidate per host of every Ingress we serve (or one refusal for the Ingress).
    pub(super) fn ingress_candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        for ingress in self.ingresses.values() {
            if !ingress::is_handled(ingress, &self.classes, &self.ingress_class) {
                continue;
            }
            let key = ObjectKey::of(&ingress.metadata);
            let base = |i: usize, id: RouteId, spec, warnings| Candidate {
                source: source(SourceKind::Ingress, &key),
                order: order(&ingress.metadata, i),
                uid: ingress.metadata.uid.clone(),
                generation: ingress.metadata.generation,
                id,
                spec,
                warnings,
                gateway: None,
            };
            match ingress::translate_ingress(ingress) {
                Err(refusal) => {
                    let id = RouteId {
                        namespace: key.namespace.clone(),
                        name: key.name.clone(),
                    };
                    out.push(base(0, id, Err(refusal), Vec::new()));
                }
                Ok(routes) => {
                    for (i, r) in routes.routes.into_iter().enumerate() {
                        let mut warnings = if i == 0 {
                            routes.warnings.clone()
                        } else {
                            Vec::new()
                        };
                        warnings.extend(r.decoded.warnings);
                        out.push(base(i, r.id, r.decoded.spec, warnings));
                    }
                }
            }
        }
        out
    }
}
