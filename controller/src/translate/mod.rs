//! Translation: a synchronous, pure index of the cluster objects wsgate reads, rebuilt into
//! route-table routes plus a report per object. No client, no I/O: tests feed it plain objects.
//!
//! ```text
//!  apply/delete/reset per kind ─> Index ─build()─> Translation { routes, reports }
//!   WebSocketRoute ─┐                               │           └─> status, Events
//!   Ingress (ours) ─┴─ decode ─ compile_route ─ conflicts (oldest wins) ─ Services/Secrets
//! ```

mod admit;
pub mod annotations;
pub mod backend;
mod candidate;
pub mod decode;
pub mod gateway;
pub mod gateway_objects;
pub mod gateway_reports;
pub mod ingress;
mod objects;
mod preview;
pub mod report;
pub(crate) mod secrets;
pub mod tenancy;
mod weighted;

pub use objects::{Kind, Object, ObjectKey};

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use wsgate_core::table::Route;

use crate::crd::WebSocketRoute;
use backend::ServiceView;
use report::{Report, SourceKind, SourceRef};
use secrets::Secrets;
use tenancy::{Claims, Tenancy};

/// What a rebuild produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Translation {
    /// Routes in precedence order (oldest first).
    pub routes: Vec<Route>,
    /// One report per WebSocketRoute, per Ingress of wsgate's class and per HTTPRoute
    /// attached to one of wsgate's Gateways (admission verdicts; their status is in `gateway`).
    pub reports: BTreeMap<SourceRef, Report>,
    /// Status of the Gateway API objects wsgate serves.
    pub gateway: gateway_reports::GatewayReports,
}

/// The snapshot of every object translation reads.
#[derive(Clone, Debug, Default)]
pub struct Index {
    ingress_class: String,
    tenancy: Tenancy,
    routes: BTreeMap<ObjectKey, WebSocketRoute>,
    ingresses: BTreeMap<ObjectKey, Ingress>,
    classes: BTreeMap<String, IngressClass>,
    services: BTreeMap<ObjectKey, Service>,
    slices: BTreeMap<ObjectKey, EndpointSlice>,
    secrets: BTreeMap<ObjectKey, Secret>,
    labelled_secrets: BTreeMap<ObjectKey, Secret>,
    gateway: gateway_objects::GatewayObjects,
}

impl Index {
    /// An empty index for a controller serving the IngressClass `ingress_class` (and the
    /// WebSocketRoutes of that class), accepting catch-all and wildcard routes from no
    /// namespace until [`Index::with_tenancy`] says otherwise.
    pub fn new(ingress_class: &str) -> Self {
        Self {
            ingress_class: ingress_class.into(),
            ..Self::default()
        }
    }

    /// Sets which namespaces may declare catch-all and wildcard routes.
    pub fn with_tenancy(mut self, tenancy: Tenancy) -> Self {
        self.tenancy = tenancy;
        self
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
            Object::LabelledSecret(o) => {
                self.labelled_secrets.insert(ObjectKey::of(&o.metadata), *o);
            }
            other => self.gateway.apply(other),
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
            Kind::LabelledSecret => drop(self.labelled_secrets.remove(key)),
            other => self.gateway.delete(other, key),
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
            Kind::LabelledSecret => self.labelled_secrets.retain(|k, _| keep(k)),
            other => self.gateway.retain(other, keep),
        }
        for object in objects.into_iter().filter(|o| o.kind() == kind) {
            self.apply(object);
        }
    }

    /// The current status of a WebSocketRoute as stored (to keep transition times).
    pub fn route(&self, key: &ObjectKey) -> Option<&WebSocketRoute> {
        self.routes.get(key)
    }

    /// The current status of the Gateway API objects `reports` describe (to keep transition
    /// times and other controllers' entries).
    pub fn gateway_current(
        &self,
        reports: &gateway_reports::GatewayReports,
    ) -> gateway_reports::GatewayCurrent {
        self.gateway.current(reports)
    }

    /// Builds the routes and reports of the current snapshot.
    pub fn build(&self) -> Translation {
        let view = ServiceView::new(&self.services, &self.slices);
        let mut out = Translation::default();
        let mut candidates = self.route_candidates();
        candidates.extend(self.ingress_candidates());
        candidates.extend(self.gateway_candidates(&mut out.gateway));
        candidates.sort_by(|a, b| a.order.cmp(&b.order));
        let mut claims = Claims::default();
        for candidate in candidates {
            self.admit(candidate, &view, &mut claims, &mut out);
        }
        Self::merge_gateway_admission(&out.reports, &mut out.gateway);
        for (key, policy) in &out.gateway.policies {
            let report = policy.as_report();
            let source = SourceRef {
                kind: SourceKind::WebSocketPolicy,
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            };
            out.reports.insert(source, report);
        }
        out
    }

    fn secrets(&self) -> Secrets<'_> {
        Secrets {
            tls: &self.secrets,
            labelled: &self.labelled_secrets,
        }
    }
}

#[cfg(test)]
mod tests;
