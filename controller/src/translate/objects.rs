//! Keys and the closed set of object kinds the index holds.

use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::crd::WebSocketRoute;
use crate::gateway_api::{Gateway, GatewayClass, HTTPRoute, ReferenceGrant};
use crate::policy_crd::WebSocketPolicy;

/// Namespace and name of an object (namespace empty for cluster-scoped kinds).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// Builds a key.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of an object's metadata.
    pub fn of(meta: &ObjectMeta) -> Self {
        Self::new(
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default(),
        )
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The kinds the index holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `wsgate.dev/v1alpha1 WebSocketRoute`.
    Route,
    /// `networking.k8s.io/v1 Ingress`.
    Ingress,
    /// `networking.k8s.io/v1 IngressClass`.
    IngressClass,
    /// `v1 Service`.
    Service,
    /// `discovery.k8s.io/v1 EndpointSlice`.
    EndpointSlice,
    /// `v1 Secret` of type `kubernetes.io/tls`.
    Secret,
    /// `v1 Secret` of another type labelled `wsgate.dev/secret` (ticket keys, CA bundles).
    LabelledSecret,
    /// `gateway.networking.k8s.io/v1 GatewayClass`.
    GatewayClass,
    /// `gateway.networking.k8s.io/v1 Gateway`.
    Gateway,
    /// `gateway.networking.k8s.io/v1 HTTPRoute`.
    HTTPRoute,
    /// `gateway.networking.k8s.io/v1beta1 ReferenceGrant`.
    ReferenceGrant,
    /// `v1 Namespace` (labels for `allowedRoutes` selectors).
    Namespace,
    /// `wsgate.dev/v1alpha1 WebSocketPolicy`.
    WebSocketPolicy,
}

/// One object of any held kind.
#[derive(Clone, Debug)]
pub enum Object {
    /// A route.
    Route(Box<WebSocketRoute>),
    /// An Ingress.
    Ingress(Box<Ingress>),
    /// An IngressClass.
    IngressClass(Box<IngressClass>),
    /// A Service.
    Service(Box<Service>),
    /// An EndpointSlice.
    EndpointSlice(Box<EndpointSlice>),
    /// A TLS Secret.
    Secret(Box<Secret>),
    /// A labelled non-TLS Secret.
    LabelledSecret(Box<Secret>),
    /// A GatewayClass.
    GatewayClass(Box<GatewayClass>),
    /// A Gateway.
    Gateway(Box<Gateway>),
    /// An HTTPRoute.
    HTTPRoute(Box<HTTPRoute>),
    /// A ReferenceGrant.
    ReferenceGrant(Box<ReferenceGrant>),
    /// A Namespace.
    Namespace(Box<Namespace>),
    /// A WebSocketPolicy.
    WebSocketPolicy(Box<WebSocketPolicy>),
}

impl Object {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::Route(_) => Kind::Route,
            Object::Ingress(_) => Kind::Ingress,
            Object::IngressClass(_) => Kind::IngressClass,
            Object::Service(_) => Kind::Service,
            Object::EndpointSlice(_) => Kind::EndpointSlice,
            Object::Secret(_) => Kind::Secret,
            Object::LabelledSecret(_) => Kind::LabelledSecret,
            Object::GatewayClass(_) => Kind::GatewayClass,
            Object::Gateway(_) => Kind::Gateway,
            Object::HTTPRoute(_) => Kind::HTTPRoute,
            Object::ReferenceGrant(_) => Kind::ReferenceGrant,
            Object::Namespace(_) => Kind::Namespace,
            Object::WebSocketPolicy(_) => Kind::WebSocketPolicy,
        }
    }
}
