//! The `WebSocketRoute` custom resource: the routes-file schema ([`RouteSpec`]) as a
//! namespaced Kubernetes kind with a status subresource, and the CRD generated from it.

use k8s_openapi::api::core::v1::LoadBalancerStatus;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::core::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wsgate_core::spec::RouteSpec;

/// Spec of a `WebSocketRoute`: exactly the routes-file [`RouteSpec`], so the file and the
/// cluster share one schema and new spec fields reach the CRD without an edit here.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "wsgate.dev",
    version = "v1alpha1",
    kind = "WebSocketRoute",
    namespaced,
    shortname = "wsr",
    status = "WebSocketRouteStatus",
    derive = "PartialEq",
    doc = "Routes WebSocket (and plain HTTP) traffic for some hosts and paths to a Service.",
    printcolumn = r#"{"name": "Hosts", "type": "string", "jsonPath": ".spec.hostnames"}"#,
    printcolumn = r#"{"name": "Backend", "type": "string", "jsonPath": ".spec.rules[0].backend.service.name"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Programmed\")].status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
pub struct WebSocketRouteSpec {
    /// Which wsgate installation serves this route: the IngressClass name it was installed
    /// with (default `wsgate`, the chart's default). Other installations ignore the route.
    #[serde(
        default,
        rename = "ingressClassName",
        skip_serializing_if = "Option::is_none"
    )]
    pub ingress_class_name: Option<String>,
    /// The route.
    #[serde(flatten)]
    pub route: RouteSpec,
}

/// The class of routes that name none: the chart's default IngressClass name.
pub const DEFAULT_ROUTE_CLASS: &str = "wsgate";

/// The installation class a route belongs to.
pub fn route_class(spec: &WebSocketRouteSpec) -> &str {
    spec.ingress_class_name
        .as_deref()
        .unwrap_or(DEFAULT_ROUTE_CLASS)
}

/// What wsgate made of a route, written by the leader.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketRouteStatus {
    /// The `metadata.generation` these conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Accepted`, `ResolvedRefs` and `Programmed`, Gateway-API style (`metav1.Condition`,
    /// one per type: other controllers may add their own).
    #[serde(default)]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Where clients reach the route: wsgate's published Service (or
    /// `--publish-status-address`), as in Ingress status, for tools such as external-dns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerStatus>,
}

/// The CRD as applied to a cluster, with the schema made structural where schemars' output
/// is not (a port is an integer or a name: `x-kubernetes-int-or-string`), and integer
/// formats the API server recognises (`int32`, `int64`).
pub fn crd() -> CustomResourceDefinition {
    let mut crd = WebSocketRoute::crd();
    make_crd_structural(&mut crd);
    crd
}

/// Makes every version's schema of a generated CRD structural.
pub(crate) fn make_crd_structural(crd: &mut CustomResourceDefinition) {
    for version in &mut crd.spec.versions {
        if let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            make_structural(schema);
        }
    }
}

/// The CRD as YAML, as `crds/websocketroutes.wsgate.dev.yaml` stores it.
pub fn crd_yaml() -> Result<String, crate::yaml::YamlError> {
    crate::yaml::to_string(&crd())
}

/// Rewrites an untagged number-or-name enum (`anyOf` of an integer and a string, which
/// kube's rewriter leaves without `type`) into the `x-kubernetes-int-or-string` form that a
/// structural schema requires, recursively.
fn make_structural(schema: &mut JSONSchemaProps) {
    if schema.type_.is_none()
        && let Some(any_of) = &schema.any_of
        && any_of.len() == 2
        && any_of.iter().any(is_integer)
        && any_of
            .iter()
            .any(|s| !is_integer(s) && is_string_or_untyped(s))
    {
        schema.any_of = None;
        schema.x_kubernetes_int_or_string = Some(true);
    }
    for child in schema.properties.iter_mut().flat_map(|p| p.values_mut()) {
        make_structural(child);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = schema.items.as_mut() {
        make_structural(items);
    }
    schema.format = match schema.format.take().as_deref() {
        Some("uint8" | "uint16" | "int8" | "int16") => Some("int32".into()),
        Some("uint32" | "uint64") => Some("int64".into()),
        other => other.map(str::to_string),
    };
}

fn is_integer(s: &JSONSchemaProps) -> bool {
    s.type_.as_deref() == Some("integer")
        || s.format
            .as_deref()
            .is_some_and(|f| f.starts_with("int") || f.starts_with("uint"))
}

fn is_string_or_untyped(s: &JSONSchemaProps) -> bool {
    matches!(s.type_.as_deref(), None | Some("string")) && s.properties.is_none()
}

#[cfg(test)]
#[path = "crd_tests.rs"]
mod tests;
