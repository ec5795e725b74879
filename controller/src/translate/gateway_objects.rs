//! The Gateway API objects of the snapshot, and the Namespaces whose labels
//! `allowedRoutes.namespaces.selector` reads.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;

use super::gateway_reports::{GatewayCurrent, GatewayReports};
use super::objects::{Kind, Object, ObjectKey};
use crate::gateway_api::{Gateway, GatewayClass, HTTPRoute, ReferenceGrant};
use crate::policy_crd::WebSocketPolicy;

/// Gateway API objects by key (cluster-scoped kinds by name).
#[derive(Clone, Debug, Default)]
pub struct GatewayObjects {
    /// GatewayClasses by name.
    pub classes: BTreeMap<String, GatewayClass>,
    /// Gateways.
    pub gateways: BTreeMap<ObjectKey, Gateway>,
    /// HTTPRoutes.
    pub routes: BTreeMap<ObjectKey, HTTPRoute>,
    /// ReferenceGrants.
    pub grants: BTreeMap<ObjectKey, ReferenceGrant>,
    /// Namespaces by name.
    pub namespaces: BTreeMap<String, Namespace>,
    /// WebSocketPolicies.
    pub policies: BTreeMap<ObjectKey, WebSocketPolicy>,
}

impl GatewayObjects {
    /// Whether a ReferenceGrant in `to_ns` lets `from` = (group, kind, namespace) refer to
    /// `to` = (group, kind, name).
    pub fn granted(&self, from: (&str, &str, &str), to_ns: &str, to: (&str, &str, &str)) -> bool {
        self.grants
            .iter()
            .filter(|(k, _)| k.namespace == to_ns)
            .any(|(_, g)| g.allows(from, to))
    }

    /// Whether `gateway`'s class is served by wsgate.
    pub fn is_ours(&self, gateway: &Gateway) -> bool {
        self.classes
            .get(&gateway.spec.gateway_class_name)
            .is_some_and(|c| c.spec.controller_name == crate::gateway_api::CONTROLLER_NAME)
    }
}

impl GatewayObjects {
    /// Adds or replaces a Gateway API object or Namespace (other kinds are not held here).
    pub fn apply(&mut self, object: Object) {
        match object {
            Object::GatewayClass(o) => {
                drop(self.classes.insert(ObjectKey::of(&o.metadata).name, *o))
            }
            Object::Gateway(o) => drop(self.gateways.insert(ObjectKey::of(&o.metadata), *o)),
            Object::HTTPRoute(o) => drop(self.routes.insert(ObjectKey::of(&o.metadata), *o)),
            Object::ReferenceGrant(o) => drop(self.grants.insert(ObjectKey::of(&o.metadata), *o)),
            Object::Namespace(o) => {
                drop(self.namespaces.insert(ObjectKey::of(&o.metadata).name, *o))
            }
            Object::WebSocketPolicy(o) => {
                drop(self.policies.insert(ObjectKey::of(&o.metadata), *o))
            }
            _ => {}
        }
    }

    /// Removes an object.
    pub fn delete(&mut self, kind: Kind, key: &ObjectKey) {
        match kind {
            Kind::GatewayClass => drop(self.classes.remove(&key.name)),
            Kind::Gateway => drop(self.gateways.remove(key)),
            Kind::HTTPRoute => drop(self.routes.remove(key)),
            Kind::ReferenceGrant => drop(self.grants.remove(key)),
            Kind::Namespace => drop(self.namespaces.remove(&key.name)),
            Kind::WebSocketPolicy => drop(self.policies.remove(key)),
            _ => {}
        }
    }

    /// Drops every object of `kind` that `keep` does not keep (before a re-list).
    pub fn retain(&mut self, kind: Kind, keep: impl Fn(&ObjectKey) -> bool) {
        match kind {
            Kind::GatewayClass => self.classes.clear(),
            Kind::Gateway => self.gateways.retain(|k, _| keep(k)),
            Kind::HTTPRoute => self.routes.retain(|k, _| keep(k)),
            Kind::ReferenceGrant => self.grants.retain(|k, _| keep(k)),
            Kind::Namespace => self.namespaces.clear(),
            Kind::WebSocketPolicy => self.policies.retain(|k, _| keep(k)),
            _ => {}
        }
    }
}

impl GatewayObjects {
    /// The status each object of `reports` carries now.
    pub fn current(&self, reports: &GatewayReports) -> GatewayCurrent {
        let mut out = GatewayCurrent::default();
        for name in reports.classes.keys() {
            if let Some(s) = self.classes.get(name).and_then(|c| c.status.clone()) {
                out.classes.insert(name.clone(), s);
            }
        }
        for key in reports.gateways.keys() {
            if let Some(s) = self.gateways.get(key).and_then(|g| g.status.clone()) {
                out.gateways.insert(key.clone(), s);
            }
        }
        for key in reports.routes.keys() {
            if let Some(s) = self.routes.get(key).and_then(|r| r.status.clone()) {
                out.routes.insert(key.clone(), s);
            }
        }
        for key in reports.policies.keys() {
            if let Some(s) = self.policies.get(key).and_then(|p| p.status.clone()) {
                out.policies.insert(key.clone(), s);
            }
        }
        out
    }
}
