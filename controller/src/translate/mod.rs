//! Translation: a synchronous, pure index of the cluster objects wsgate reads, rebuilt into
//! route-table routes plus a report per object. No client, no I/O: tests feed it plain objects.
//!
//! ```text
//!  apply/delete/reset per kind ─> Index ─build()─> Translation { routes, reports }
//!   WebSocketRoute ─┐                               │           └─> status, Events
//!   Ingress (ours) ─┴─ decode ─ compile_route ─ conflicts (oldest wins) ─ Services/Secrets
//! ```

pub mod annotations;
pub mod backend;
pub mod decode;
pub mod ingress;
mod objects;
pub mod report;
mod secrets;

pub use objects::{Kind, Object, ObjectKey};

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use wsgate_core::compile::compile_route;
use wsgate_core::spec::{BackendSpec, RouteSpec};
use wsgate_core::table::{Backend, HostMatch, PathMatch, Route, RouteId};

use crate::crd::WebSocketRoute;
use backend::{ServiceView, Unresolved};
use decode::Refusal;
use report::{Report, SourceKind, SourceRef, reason};

/// What a rebuild produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Translation {
    /// Routes in precedence order (oldest first).
    pub routes: Vec<Route>,
    /// One report per WebSocketRoute and per Ingress of wsgate's class.
    pub reports: BTreeMap<SourceRef, Report>,
}

/// The snapshot of every object translation reads.
#[derive(Clone, Debug, Default)]
pub struct Index {
    ingress_class: String,
    routes: BTreeMap<ObjectKey, WebSocketRoute>,
    ingresses: BTreeMap<ObjectKey, Ingress>,
    classes: BTreeMap<String, IngressClass>,
    services: BTreeMap<ObjectKey, Service>,
    slices: BTreeMap<ObjectKey, EndpointSlice>,
    secrets: BTreeMap<ObjectKey, Secret>,
}

impl Index {
    /// An empty index for a controller serving the IngressClass `ingress_class`.
    pub fn new(ingress_class: &str) -> Self {
        Self {
            ingress_class: ingress_class.into(),
            ..Self::default()
        }
    }

    /// Adds or replaces an object.
    pub fn apply(&mut self, object: Object) {
        match object {
            Object::Route(o) => {
                self.routes.insert(ObjectKey::of(&o.metadata), *o);
            }
            Object::Ingress(o) => {
                self.ingresses.insert(ObjectKey::of(&o.metadata), *o);
            }
            Object::IngressClass(o) => {
                self.classes.insert(ObjectKey::of(&o.metadata).name, *o);
            }
            Object::Service(o) => {
                self.services.insert(ObjectKey::of(&o.metadata), *o);
            }
            Object::EndpointSlice(o) => {
                self.slices.insert(ObjectKey::of(&o.metadata), *o);
            }
            Object::Secret(o) => {
                self.secrets.insert(ObjectKey::of(&o.metadata), *o);
            }
        }
    }

    /// Removes an object.
    pub fn delete(&mut self, kind: Kind, key: &ObjectKey) {
        match kind {
            Kind::Route => drop(self.routes.remove(key)),
            Kind::Ingress => drop(self.ingresses.remove(key)),
            Kind::IngressClass => drop(self.classes.remove(&key.name)),
            Kind::Service => drop(self.services.remove(key)),
            Kind::EndpointSlice => drop(self.slices.remove(key)),
            Kind::Secret => drop(self.secrets.remove(key)),
        }
    }

    /// Replaces every object of `kind` in `namespace` (all namespaces when `None`) after a
    /// watch (re-)listed them.
    pub fn reset(&mut self, kind: Kind, namespace: Option<&str>, objects: Vec<Object>) {
        let keep = |key: &ObjectKey| namespace.is_some_and(|ns| key.namespace != ns);
        match kind {
            Kind::Route => self.routes.retain(|k, _| keep(k)),
            Kind::Ingress => self.ingresses.retain(|k, _| keep(k)),
            Kind::IngressClass => self.classes.clear(),
            Kind::Service => self.services.retain(|k, _| keep(k)),
            Kind::EndpointSlice => self.slices.retain(|k, _| keep(k)),
            Kind::Secret => self.secrets.retain(|k, _| keep(k)),
        }
        for object in objects.into_iter().filter(|o| o.kind() == kind) {
            self.apply(object);
        }
    }

    /// The current status of a WebSocketRoute as stored (to keep transition times).
    pub fn route(&self, key: &ObjectKey) -> Option<&WebSocketRoute> {
        self.routes.get(key)
    }

    /// Builds the routes and reports of the current snapshot.
    pub fn build(&self) -> Translation {
        let view = ServiceView::new(&self.services, &self.slices);
        let mut candidates = self.route_candidates();
        candidates.extend(self.ingress_candidates());
        candidates.sort_by(|a, b| a.order.cmp(&b.order));
        let mut out = Translation::default();
        let mut claims = HashMap::new();
        for candidate in candidates {
            self.admit(candidate, &view, &mut claims, &mut out);
        }
        out
    }
}

/// A route waiting for admission, with what decides its precedence.
struct Candidate {
    source: SourceRef,
    order: (Option<Time>, String, String, usize),
    uid: Option<String>,
    generation: Option<i64>,
    id: RouteId,
    spec: Result<RouteSpec, Refusal>,
    warnings: Vec<String>,
}

fn order(meta: &ObjectMeta, index: usize) -> (Option<Time>, String, String, usize) {
    let key = ObjectKey::of(meta);
    (
        meta.creation_timestamp.clone(),
        key.namespace,
        key.name,
        index,
    )
}

type ClaimKey = (Option<HostMatch>, PathMatch);

impl Index {
    fn route_candidates(&self) -> Vec<Candidate> {
        self.routes
            .values()
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
                }
            })
            .collect()
    }

    fn ingress_candidates(&self) -> Vec<Candidate> {
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

    /// Compiles one candidate, checks conflicts and references, and records the verdicts.
    fn admit(
        &self,
        c: Candidate,
        view: &ServiceView<'_>,
        claims: &mut HashMap<ClaimKey, SourceRef>,
        out: &mut Translation,
    ) {
        let report = out
            .reports
            .entry(c.source.clone())
            .or_insert_with(|| Report::new(c.uid.clone(), c.generation));
        for w in c.warnings {
            if !report.warnings.contains(&w) {
                report.warnings.push(w);
            }
        }
        let spec = match c.spec {
            Ok(spec) => spec,
            Err(refusal) => return report.refuse(refusal.reason, refusal.message),
        };
        let problems = RefCell::new(Vec::new());
        let namespace = c.id.namespace.clone();
        let resolve = |b: &BackendSpec, _: &str| resolve_backend(view, &namespace, b, &problems);
        let inlined = secrets::inline_ticket_key(&self.secrets, &namespace, &spec);
        let route = match compile_route(c.id, inlined.as_ref().unwrap_or(&spec), &resolve) {
            Ok(route) => route,
            Err(e) => return report.refuse(reason::INVALID_SPEC, e.to_string()),
        };
        let keys = claim_keys(&route);
        if let Some((key, owner)) = keys
            .iter()
            .find_map(|k| claims.get(k).filter(|o| **o != c.source).map(|o| (k, o)))
        {
            let message = format!("{} is already served by {owner}", describe(key));
            return report.refuse(reason::HOSTNAME_CONFLICT, message);
        }
        for key in keys {
            claims.entry(key).or_insert_with(|| c.source.clone());
        }
        for p in problems.into_inner() {
            if p.reason == reason::NO_READY_ENDPOINTS {
                report.not_programmed(p.reason, p.message);
            } else {
                report.unresolved(p.reason, p.message);
            }
        }
        let route = secrets::check(&self.secrets, &spec, route, report);
        out.routes.push(route);
    }
}

fn source(kind: SourceKind, key: &ObjectKey) -> SourceRef {
    SourceRef {
        kind,
        namespace: key.namespace.clone(),
        name: key.name.clone(),
    }
}

/// A Service backend becomes endpoints, or an invalid backend (503) with the problem noted.
fn resolve_backend(
    view: &ServiceView<'_>,
    namespace: &str,
    spec: &BackendSpec,
    problems: &RefCell<Vec<Unresolved>>,
) -> Result<Backend, String> {
    match (&spec.service, &spec.addresses) {
        (Some(_), Some(_)) => Err("set either service or addresses, not both".into()),
        (None, Some(_)) => Err(
            "addresses are only for routes files; in a cluster use service: {name, port}".into(),
        ),
        (None, None) => Err("service is required ({name, port})".into()),
        (Some(svc), None) => Ok(match view.resolve(namespace, svc) {
            Ok(endpoints) => Backend::Endpoints(endpoints.into()),
            Err(problem) => {
                let reason = problem.message.clone();
                problems.borrow_mut().push(problem);
                Backend::Invalid { reason }
            }
        }),
    }
}

fn claim_keys(route: &Route) -> Vec<ClaimKey> {
    let hosts: Vec<Option<HostMatch>> = if route.hostnames.is_empty() {
        vec![None]
    } else {
        route.hostnames.iter().cloned().map(Some).collect()
    };
    let mut keys = Vec::new();
    for host in &hosts {
        for rule in route.rules.iter() {
            let key = (host.clone(), rule.path.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

fn describe((host, path): &ClaimKey) -> String {
    let host = match host {
        None => "every host".to_string(),
        Some(HostMatch::Exact(h)) => format!("host {h}"),
        Some(HostMatch::Wildcard(suffix)) => format!("host *{suffix}"),
    };
    match path {
        PathMatch::Prefix(p) => format!("{host} path prefix {p}"),
        PathMatch::Exact(p) => format!("{host} exact path {p}"),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "ingress_tests.rs"]
mod ingress_tests;
#[cfg(test)]
mod secrets_tests;
