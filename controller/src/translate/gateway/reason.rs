//! Condition reasons of the Gateway API spec (positive reasons are the condition type
//! itself: `Accepted`, `Programmed`, ...).

/// A listener that cannot be served.
pub const INVALID: &str = "Invalid";
/// A listener protocol wsgate does not serve.
pub const UNSUPPORTED_PROTOCOL: &str = "UnsupportedProtocol";
/// A route kind a listener cannot take.
pub const INVALID_ROUTE_KINDS: &str = "InvalidRouteKinds";
/// A certificate reference that is not a usable TLS Secret.
pub const INVALID_CERTIFICATE_REF: &str = "InvalidCertificateRef";
/// A reference into another namespace without a ReferenceGrant.
pub const REF_NOT_PERMITTED: &str = "RefNotPermitted";
/// Listeners on one port with protocols that cannot share it.
pub const PROTOCOL_CONFLICT: &str = "ProtocolConflict";
/// Listeners on one port and protocol with the same hostname.
pub const HOSTNAME_CONFLICT: &str = "HostnameConflict";
/// Some listeners are invalid.
pub const LISTENERS_NOT_VALID: &str = "ListenersNotValid";
/// Requested addresses wsgate cannot assign.
pub const UNSUPPORTED_ADDRESS: &str = "UnsupportedAddress";
/// The route's parentRef names no listener of the Gateway.
pub const NO_MATCHING_PARENT: &str = "NoMatchingParent";
/// No listener allows the route (namespace or kind).
pub const NOT_ALLOWED_BY_LISTENERS: &str = "NotAllowedByListeners";
/// No listener hostname intersects the route's.
pub const NO_MATCHING_LISTENER_HOSTNAME: &str = "NoMatchingListenerHostname";
/// A value wsgate does not support (regular expressions, mirroring, ...).
pub const UNSUPPORTED_VALUE: &str = "UnsupportedValue";
/// A backend that does not exist.
pub const BACKEND_NOT_FOUND: &str = "BackendNotFound";
/// A backend of a kind other than Service.
pub const INVALID_KIND: &str = "InvalidKind";
