//! What translation says about each source object: Gateway-API-style conditions and the
//! warnings that become Events.

/// Condition type: the object was understood and takes part in routing.
pub const ACCEPTED: &str = "Accepted";
/// Condition type: every Service and Secret it names exists and fits.
pub const RESOLVED_REFS: &str = "ResolvedRefs";
/// Condition type: traffic reaches ready endpoints.
pub const PROGRAMMED: &str = "Programmed";

/// The kind of object a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// A `WebSocketRoute`.
    Route,
    /// An `Ingress` of wsgate's class.
    Ingress,
    /// A Gateway API `HTTPRoute` attached to a Gateway of wsgate's classes.
    HTTPRoute,
    /// A `WebSocketPolicy` (its reports carry Events; status is per ancestor).
    WebSocketPolicy,
}

impl SourceKind {
    /// The Kubernetes kind.
    pub fn kind(self) -> &'static str {
        match self {
            SourceKind::Route => "WebSocketRoute",
            SourceKind::Ingress => "Ingress",
            SourceKind::HTTPRoute => "HTTPRoute",
            SourceKind::WebSocketPolicy => "WebSocketPolicy",
        }
    }

    /// The `apiVersion` of the kind.
    pub fn api_version(self) -> &'static str {
        match self {
            SourceKind::Route => "wsgate.dev/v1alpha1",
            SourceKind::Ingress => "networking.k8s.io/v1",
            SourceKind::HTTPRoute => "gateway.networking.k8s.io/v1",
            SourceKind::WebSocketPolicy => "wsgate.dev/v1alpha1",
        }
    }
}

/// Names the object a report is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceRef {
    /// Kind.
    pub kind: SourceKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind.kind(), self.namespace, self.name)
    }
}

/// One condition's verdict, without timestamps (those belong to the status writer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// True or False.
    pub status: bool,
    /// CamelCase reason.
    pub reason: String,
    /// Explanation.
    pub message: String,
}

impl Verdict {
    /// `True` or `False`, as a condition's status.
    pub fn status_text(&self) -> &'static str {
        if self.status { "True" } else { "False" }
    }

    /// A positive verdict whose reason is the condition type itself.
    pub fn ok(reason: &str, message: impl Into<String>) -> Self {
        Self {
            status: true,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A negative verdict.
    pub fn fail(reason: &str, message: impl Into<String>) -> Self {
        Self {
            status: false,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Everything translation concluded about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `metadata.uid` of the object (Events point at it).
    pub uid: Option<String>,
    /// `metadata.generation` the verdicts describe.
    pub generation: Option<i64>,
    /// `Accepted`.
    pub accepted: Verdict,
    /// `ResolvedRefs`.
    pub resolved_refs: Verdict,
    /// `Programmed`.
    pub programmed: Verdict,
    /// Warnings for Events (ignored annotations and the like).
    pub warnings: Vec<String>,
}

impl Report {
    /// A report with every condition true.
    pub fn new(uid: Option<String>, generation: Option<i64>) -> Self {
        Self {
            uid,
            generation,
            accepted: Verdict::ok(ACCEPTED, "the route is valid"),
            resolved_refs: Verdict::ok(RESOLVED_REFS, "every reference resolved"),
            programmed: Verdict::ok(PROGRAMMED, "serving traffic"),
            warnings: Vec::new(),
        }
    }

    /// Records a refusal: not accepted, so not programmed either.
    pub fn refuse(&mut self, reason: &str, message: impl Into<String>) {
        let message = message.into();
        if self.accepted.status {
            self.programmed = Verdict::fail(reason, format!("not accepted: {message}"));
            self.accepted = Verdict::fail(reason, message);
        }
    }

    /// Records an unresolved reference; the first one is kept, later ones are appended.
    pub fn unresolved(&mut self, reason: &str, message: impl Into<String>) {
        let message = message.into();
        if self.resolved_refs.status {
            self.resolved_refs = Verdict::fail(reason, message.clone());
        } else if !self.resolved_refs.message.contains(&message) {
            self.resolved_refs.message = format!("{}; {message}", self.resolved_refs.message);
        }
        self.not_programmed(reason, message);
    }

    /// Records a reason traffic cannot be served (first reason wins).
    pub fn not_programmed(&mut self, reason: &str, message: impl Into<String>) {
        if self.programmed.status {
            self.programmed = Verdict::fail(reason, message);
        }
    }

    /// Whether every condition is true.
    pub fn all_true(&self) -> bool {
        self.accepted.status && self.resolved_refs.status && self.programmed.status
    }

    /// The verdicts by condition type, in status order.
    pub fn conditions(&self) -> [(&'static str, &Verdict); 3] {
        [
            (ACCEPTED, &self.accepted),
            (RESOLVED_REFS, &self.resolved_refs),
            (PROGRAMMED, &self.programmed),
        ]
    }
}

/// Condition reasons.
pub mod reason {
    /// Another, older route already serves this host and path.
    pub const HOSTNAME_CONFLICT: &str = "HostnameConflict";
    /// A field is invalid.
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// An annotation wsgate must enforce but cannot.
    pub const UNSUPPORTED_ANNOTATION: &str = "UnsupportedAnnotation";
    /// The backend names a Service that does not exist.
    pub const SERVICE_NOT_FOUND: &str = "ServiceNotFound";
    /// The Service exists but has no such port.
    pub const PORT_NOT_FOUND: &str = "PortNotFound";
    /// The Service cannot be used as a backend (ExternalName).
    pub const UNSUPPORTED_BACKEND: &str = "UnsupportedBackend";
    /// A referenced Secret does not exist.
    pub const SECRET_NOT_FOUND: &str = "SecretNotFound";
    /// A referenced Secret exists but has the wrong type or keys.
    pub const INVALID_SECRET: &str = "InvalidSecret";
    /// The Service has no ready endpoints.
    pub const NO_READY_ENDPOINTS: &str = "NoReadyEndpoints";
    /// A catch-all or wildcard route from a namespace the operator did not allow.
    pub const NAMESPACE_NOT_ALLOWED: &str = "NamespaceNotAllowed";

    /// A reference into another namespace that no ReferenceGrant allows.
    pub const REF_NOT_PERMITTED: &str = "RefNotPermitted";
    /// A policy whose target an older policy holds.
    pub const CONFLICTED: &str = "Conflicted";
    /// A policy that cannot be applied as written.
    pub const INVALID: &str = "Invalid";
    /// A policy whose target does not exist.
    pub const TARGET_NOT_FOUND: &str = "TargetNotFound";

    /// The constant spelling of `reason` (Events want `'static` reasons).
    pub fn intern(reason: &str) -> &'static str {
        [
            HOSTNAME_CONFLICT,
            INVALID_SPEC,
            UNSUPPORTED_ANNOTATION,
            SERVICE_NOT_FOUND,
            PORT_NOT_FOUND,
            UNSUPPORTED_BACKEND,
            SECRET_NOT_FOUND,
            INVALID_SECRET,
            NO_READY_ENDPOINTS,
            NAMESPACE_NOT_ALLOWED,
            REF_NOT_PERMITTED,
            CONFLICTED,
            INVALID,
            TARGET_NOT_FOUND,
        ]
        .into_iter()
        .find(|r| *r == reason)
        .unwrap_or("Refused")
    }
}
