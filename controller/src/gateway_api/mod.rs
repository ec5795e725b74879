//! The Gateway API kinds wsgate serves (standard channel): GatewayClass, Gateway, HTTPRoute
//! (`gateway.networking.k8s.io/v1`) and ReferenceGrant (`v1beta1`). The CRDs are the
//! cluster's; these are the parts wsgate reads and writes, unknown fields ignored on read so
//! a newer Gateway API release still deserialises. Filters are kept as raw JSON and decoded
//! by translation, which reports a filter it does not know instead of dropping it.
//!
//! The kube-rs community `gateway-api` crate is not used: its current release (0.22) is built
//! on kube 4 and k8s-openapi 0.28, and wsgate is on kube 5 and k8s-openapi 0.29, whose
//! object metadata and client types cannot be mixed with those (and a second kube and
//! k8s-openapi in the build would double its largest part).

mod gateway;
mod httproute;
mod policy;

pub use gateway::*;
pub use httproute::*;
pub use policy::*;

/// API group of the Gateway API kinds.
pub const GROUP: &str = "gateway.networking.k8s.io";
/// The `controllerName` of GatewayClasses wsgate serves.
pub const CONTROLLER_NAME: &str = "wsgate.dev/gateway-controller";
