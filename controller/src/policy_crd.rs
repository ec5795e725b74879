//! The `WebSocketPolicy` custom resource: WebSocket behaviour attached to Gateway API objects
//! (policy attachment). `targetRefs` name HTTPRoutes (optionally one named rule), Gateways or
//! Services in the policy's namespace; the policy fields are the ones of a WebSocketRoute, and both
//! compile into the same route table.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::core::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wsgate_core::spec::{
    AccessLogSpec, AuthSpec, DrainSpec, HumanDuration, KeepaliveSpec, LimitsSpec,
    LoadBalancingSpec, OriginsSpec, SessionAffinitySpec, SourceRangesSpec, WebSocketProtocol,
};

/// Spec of a `WebSocketPolicy`: what it targets, and the WebSocket behaviour it sets there.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "wsgate.dev",
    version = "v1alpha1",
    kind = "WebSocketPolicy",
    namespaced,
    shortname = "wsp",
    status = "WebSocketPolicyStatus",
    derive = "PartialEq",
    doc = "WebSocket behaviour (affinity, timeouts, keepalive, limits, Origin, auth, drain) for Gateway API HTTPRoutes and Gateways.",
    printcolumn = r#"{"name": "Target", "type": "string", "jsonPath": ".spec.targetRefs[0].name"}"#,
    printcolumn = r#"{"name": "Accepted", "type": "string", "jsonPath": ".status.ancestors[0].conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketPolicySpec {
    /// The objects this policy applies to, in its own namespace: HTTPRoutes (with
    /// `sectionName`, one named rule of the route), Gateways (every route attached to them)
    /// or Services (every rule sending to them). A more specific policy wins section by
    /// section: rule over route over Service over Gateway.
    #[schemars(length(min = 1, max = 16))]
    pub target_refs: Vec<PolicyTargetRef>,
    /// Sections that win over the same sections of more specific policies (GEP-713
    /// overrides): on a Gateway, a floor no route's policy can loosen (`origins`, `limits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<PolicyFields>,
    /// The policy's sections: defaults that more specific policies may replace.
    #[serde(flatten)]
    pub policy: PolicyFields,
}

/// A reference to the object a policy applies to (Gateway API `LocalPolicyTargetReference`
/// with an optional `sectionName`).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyTargetRef {
    /// API group: `gateway.networking.k8s.io`, or `""` for a Service.
    pub group: String,
    /// `HTTPRoute`, `Gateway` or `Service`.
    pub kind: String,
    /// Name of the object, in the policy's namespace.
    pub name: String,
    /// An HTTPRoute rule's `name`: the policy applies to that rule only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// The WebSocket behaviour a policy sets: each section as in a WebSocketRoute.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyFields {
    /// Which requests must reach the same endpoint (`SocketIO`, `Cookie`, `Header`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<SessionAffinitySpec>,
    /// How connections are spread over the endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancing: Option<LoadBalancingSpec>,
    /// Idle and connect timeouts of WebSockets (the HTTP exchange up to `101` is bounded by
    /// the HTTPRoute's own `timeouts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<PolicyTimeouts>,
    /// Keepalive pings wsgate sends to clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<KeepaliveSpec>,
    /// Message size, connection and rate limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
    /// Browser origins allowed to open WebSockets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origins: Option<OriginsSpec>,
    /// Ticket and external authentication of handshakes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSpec>,
    /// How connections are closed when their endpoint goes away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainSpec>,
    /// Client address ranges allowed or denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ranges: Option<SourceRangesSpec>,
    /// Access logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogSpec>,
    /// How strictly frames are checked (`Strict` or `Passthrough`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<WebSocketProtocol>,
}

impl PolicyFields {
    /// `self` with every section `over` sets replaced by `over`'s (the more specific policy
    /// wins section by section).
    pub fn overlaid(&self, over: &PolicyFields) -> PolicyFields {
        fn pick<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
            over.clone().or_else(|| base.clone())
        }
        PolicyFields {
            session_affinity: pick(&over.session_affinity, &self.session_affinity),
            load_balancing: pick(&over.load_balancing, &self.load_balancing),
            timeouts: pick(&over.timeouts, &self.timeouts),
            keepalive: pick(&over.keepalive, &self.keepalive),
            limits: pick(&over.limits, &self.limits),
            origins: pick(&over.origins, &self.origins),
            auth: pick(&over.auth, &self.auth),
            drain: pick(&over.drain, &self.drain),
            source_ranges: pick(&over.source_ranges, &self.source_ranges),
            access_log: pick(&over.access_log, &self.access_log),
            protocol: pick(&over.protocol, &self.protocol),
        }
    }
}

/// Timeouts of established WebSockets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyTimeouts {
    /// A WebSocket with no data message either way for this long is closed with 1001
    /// (default 1h; `0s` disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<HumanDuration>,
    /// Pings, pongs and closes also keep the connection from being idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_counts_control_frames: Option<bool>,
    /// Time to open a TCP connection to an endpoint (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<HumanDuration>,
}

/// What wsgate made of a policy: one entry per ancestor (the Gateway a target is attached
/// to), as Gateway API policy attachment describes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketPolicyStatus {
    /// Per ancestor: `Accepted` with reason `Accepted`, `Conflicted`, `Invalid` or
    /// `TargetNotFound`.
    #[serde(default)]
    #[schemars(length(max = 16))]
    pub ancestors: Vec<PolicyAncestorStatus>,
}

/// Status of a policy for one ancestor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAncestorStatus {
    /// The ancestor: a Gateway, or the target itself when it was not found.
    pub ancestor_ref: AncestorRef,
    /// The controller writing this entry.
    pub controller_name: String,
    /// `Accepted`.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

/// A Gateway API `ParentReference`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct AncestorRef {
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Section (listener or rule) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// The CRD as applied to a cluster (structural schema, integer formats the API server
/// knows).
pub fn crd() -> CustomResourceDefinition {
    let mut crd = WebSocketPolicy::crd();
    crate::crd::make_crd_structural(&mut crd);
    crd
}

/// The CRD as YAML, as `crds/websocketpolicies.wsgate.dev.yaml` stores it.
pub fn crd_yaml() -> Result<String, crate::yaml::YamlError> {
    crate::yaml::to_string(&crd())
}

/// Every CRD of wsgate (WebSocketRoute, WebSocketPolicy) as one YAML stream, as `wsgate crd`
/// prints it.
pub fn all_crds_yaml() -> Result<String, crate::yaml::YamlError> {
    Ok(format!("{}---\n{}", crate::crd::crd_yaml()?, crd_yaml()?))
}

#[cfg(test)]
#[path = "policy_crd_tests.rs"]
mod tests;
