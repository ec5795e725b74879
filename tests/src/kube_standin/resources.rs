//! The kinds the stand-in serves and how request paths name them.

/// One served resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    /// API group ("" for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Plural name used in paths.
    pub plural: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

const fn r(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group,
        version,
        plural,
        kind,
        namespaced,
    }
}

/// Every resource the stand-in knows.
pub const RESOURCES: &[Resource] = &[
    r("", "v1", "namespaces", "Namespace", false),
    r("", "v1", "services", "Service", true),
    r("", "v1", "secrets", "Secret", true),
    r("", "v1", "configmaps", "ConfigMap", true),
    r("", "v1", "events", "Event", true),
    r("networking.k8s.io", "v1", "ingresses", "Ingress", true),
    r(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "IngressClass",
        false,
    ),
    r(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        true,
    ),
    r("coordination.k8s.io", "v1", "leases", "Lease", true),
    r("events.k8s.io", "v1", "events", "Event", true),
    r(
        "wsgate.dev",
        "v1alpha1",
        "websocketroutes",
        "WebSocketRoute",
        true,
    ),
    r(
        "wsgate.dev",
        "v1alpha1",
        "websocketpolicies",
        "WebSocketPolicy",
        true,
    ),
    r(GW, "v1", "gatewayclasses", "GatewayClass", false),
    r(GW, "v1", "gateways", "Gateway", true),
    r(GW, "v1", "httproutes", "HTTPRoute", true),
    r(GW, "v1beta1", "referencegrants", "ReferenceGrant", true),
];

const GW: &str = "gateway.networking.k8s.io";

impl Resource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Fields a field selector may name (as the API server supports them).
    pub fn fields(&self) -> &'static [&'static str] {
        match self.kind {
            "Secret" => &["metadata.name", "metadata.namespace", "type"],
            _ => &["metadata.name", "metadata.namespace"],
        }
    }

    /// The resource of an `apiVersion` and `kind` pair.
    pub fn of(api_version: &str, kind: &str) -> Option<Resource> {
        RESOURCES
            .iter()
            .find(|r| r.kind == kind && r.api_version() == api_version)
            .copied()
    }
}

/// What a resource path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The resource type.
    pub resource: Resource,
    /// Namespace in the path (`None`: all namespaces, or a cluster-scoped kind).
    pub namespace: Option<String>,
    /// Object name, when the path names one object.
    pub name: Option<String>,
    /// Subresource (`status`).
    pub subresource: Option<String>,
}

/// Parses `/api/v1/...` and `/apis/<group>/<version>/...` resource paths.
pub fn parse(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] => (Some(ns.to_string()), {
            let mut v = vec![*plural];
            v.extend_from_slice(more);
            v
        }),
        other => (None, other.to_vec()),
    };
    let (plural, name, subresource) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
        _ => return None,
    };
    let resource = RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
        .copied()?;
    Some(Target {
        resource,
        namespace,
        name,
        subresource,
    })
}
