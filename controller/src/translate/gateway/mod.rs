//! Gateway API translation: GatewayClasses of wsgate's controller, their Gateways'
//! listeners, and the HTTPRoutes attached to them, into route candidates (the same
//! admission and route table as WebSocketRoute and Ingress) plus the status the spec asks
//! for on each object.
//!
//! ```text
//!  GatewayClass (ours) ─> Gateway ─> listeners (protocol, TLS, allowedRoutes, conflicts)
//!                                        │ attach: parentRef, sectionName/port, namespaces, hostnames
//!  HTTPRoute ─ rules (matches × filters × backendRefs) ──┴─> one candidate per rule and listener
//! ```

mod attach;
pub(super) mod build;
mod listeners;
pub mod policy;
mod policy_targets;
pub mod reason;
mod rules;
