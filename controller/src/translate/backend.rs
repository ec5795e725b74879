//! Service backends: a `{name, port}` reference resolved against Services and their
//! EndpointSlices into the ready endpoints the proxy connects to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use wsgate_core::spec::{ServicePort, ServiceRef};
use wsgate_core::table::Endpoint;

use super::objects::ObjectKey;
use super::report::reason;

/// Label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming who wrote an EndpointSlice, and the only writer wsgate believes: anyone may
/// create a slice labelled with a Service's name and point it at any address.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// Kubernetes' own EndpointSlice controller.
pub const ENDPOINTSLICE_CONTROLLER: &str = "endpointslice-controller.k8s.io";

/// Why a Service reference gave no endpoints: a condition reason and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// Condition reason (`ServiceNotFound`, `PortNotFound`, ...).
    pub reason: &'static str,
    /// Explanation, also the 503 reason.
    pub message: String,
}

/// Services and EndpointSlices of the snapshot, slices grouped by Service once per rebuild.
pub struct ServiceView<'a> {
    services: &'a BTreeMap<ObjectKey, Service>,
    slices: HashMap<(&'a str, &'a str), Vec<&'a EndpointSlice>>,
}

impl<'a> ServiceView<'a> {
    /// Groups `slices` by the Service they belong to.
    pub fn new(
        services: &'a BTreeMap<ObjectKey, Service>,
        slices: &'a BTreeMap<ObjectKey, EndpointSlice>,
    ) -> Self {
        let mut grouped: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
        for (key, slice) in slices {
            let labels = slice.metadata.labels.as_ref();
            let managed = labels
                .and_then(|l| l.get(MANAGED_BY_LABEL))
                .is_some_and(|m| m == ENDPOINTSLICE_CONTROLLER);
            let service = labels.and_then(|l| l.get(SERVICE_NAME_LABEL));
            if let Some(service) = service.filter(|_| managed) {
                grouped
                    .entry((key.namespace.as_str(), service.as_str()))
                    .or_default()
                    .push(slice);
            }
        }
        Self {
            services,
            slices: grouped,
        }
    }

    /// Resolves `svc` in `namespace` to its ready, non-terminating endpoints (sorted).
    pub fn resolve(&self, namespace: &str, svc: &ServiceRef) -> Result<Vec<Endpoint>, Unresolved> {
        let key = ObjectKey::new(namespace, &svc.name);
        let Some(service) = self.services.get(&key) else {
            return Err(Unresolved {
                reason: reason::SERVICE_NOT_FOUND,
                message: format!("service {key} not found"),
            });
        };
        let spec = service.spec.clone().unwrap_or_default();
        if spec.type_.as_deref() == Some("ExternalName") {
            return Err(Unresolved {
                reason: reason::UNSUPPORTED_BACKEND,
                message: format!("service {key} is of type ExternalName, which has no endpoints"),
            });
        }
        let port = spec.ports.iter().flatten().find(|p| match &svc.port {
            ServicePort::Number(n) => p.port == i32::from(*n),
            ServicePort::Name(name) => p.name.as_deref() == Some(name.as_str()),
        });
        let Some(port) = port else {
            let wanted = match &svc.port {
                ServicePort::Number(n) => n.to_string(),
                ServicePort::Name(n) => format!("named {n:?}"),
            };
            return Err(Unresolved {
                reason: reason::PORT_NOT_FOUND,
                message: format!("service {key} has no port {wanted}"),
            });
        };
        let port_name = port.name.as_deref().unwrap_or("");
        let endpoints = self.ready_endpoints(namespace, &svc.name, port_name);
        if endpoints.is_empty() {
            return Err(Unresolved {
                reason: reason::NO_READY_ENDPOINTS,
                message: format!("service {key} port {} has no ready endpoints", port.port),
            });
        }
        Ok(endpoints)
    }

    fn ready_endpoints(&self, namespace: &str, service: &str, port_name: &str) -> Vec<Endpoint> {
        let mut addrs = BTreeSet::new();
        for slice in self.slices.get(&(namespace, service)).into_iter().flatten() {
            if !matches!(slice.address_type.as_str(), "IPv4" | "IPv6") {
                continue;
            }
            let target = slice
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref().unwrap_or("") == port_name)
                .and_then(|p| p.port)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0);
            let Some(target) = target else { continue };
            for endpoint in &slice.endpoints {
                let conditions = endpoint.conditions.clone().unwrap_or_default();
                // Unknown readiness counts as ready (the API's rule); terminating endpoints
                // get no new connections so they drain.
                if !conditions.ready.unwrap_or(true) || conditions.terminating.unwrap_or(false) {
                    continue;
                }
                for text in &endpoint.addresses {
                    if let Ok(ip) = text.parse::<IpAddr>() {
                        addrs.insert(SocketAddr::new(ip, target));
                    }
                }
            }
        }
        addrs
            .into_iter()
            .map(|addr| Endpoint { addr, weight: 1 })
            .collect()
    }
}
