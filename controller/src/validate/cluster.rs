//! Documents the controller reads (`WebSocketRoute` naming Services, `Ingress`), checked by
//! the controller's own translation: decoded as the API server would hand them over, then
//! admitted in an index of their own; an `Accepted: False` verdict is the document's error.

use k8s_openapi::api::networking::v1::{Ingress, IngressClass, IngressClassSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_yaml::Value;
use wsgate_core::spec::RouteSpec;

use super::error::{DocumentError, field_and_message};
use crate::crd::{WebSocketRoute, route_class};
use crate::policy_crd::{PolicyFields, WebSocketPolicy};
use crate::translate::gateway::policy::check_fields;
use crate::translate::report::ACCEPTED;
use crate::translate::tenancy::Tenancy;
use crate::translate::{Index, Object};

/// The controller name of wsgate's IngressClass.
const CONTROLLER: &str = "wsgate.dev/ingress-controller";

/// A route written for a cluster: a backend names a Service, or the certificate a Secret.
pub fn is_cluster_route(doc: &Value) -> bool {
    let spec = doc.get("spec");
    let rules = spec
        .and_then(|s| s.get("rules"))
        .and_then(Value::as_sequence);
    let service = rules
        .into_iter()
        .flatten()
        .any(|r| r.get("backend").and_then(|b| b.get("service")).is_some());
    let secret = spec
        .and_then(|s| s.get("tls"))
        .and_then(|t| t.get("secretName"))
        .is_some();
    service || secret
}

/// The errors of a cluster `WebSocketRoute`.
pub fn check_route(
    doc: &Value,
    fail: &dyn Fn(&str, String) -> DocumentError,
) -> Vec<DocumentError> {
    // The spec alone first: the route's fields are flattened into the resource's spec,
    // which would hide the path of a bad field.
    let mut spec = doc.get("spec").cloned().unwrap_or(Value::Null);
    if let Value::Mapping(m) = &mut spec {
        m.remove("ingressClassName");
    }
    if let Err((field, message)) = decode::<RouteSpec>(&spec) {
        return vec![fail(&format!("spec.{field}"), message)];
    }
    let route: WebSocketRoute = match decode(doc) {
        Ok(r) => r,
        Err((field, message)) => return vec![fail(&field, message)],
    };
    let class = route_class(&route.spec).to_string();
    let mut index = index_for(&class);
    index.apply(Object::Route(Box::new(route)));
    verdicts(&index, fail)
}

/// The errors of an `Ingress`, translated as if it were of wsgate's class.
pub fn check_ingress(
    doc: &Value,
    fail: &dyn Fn(&str, String) -> DocumentError,
) -> Vec<DocumentError> {
    let mut ingress: Ingress = match decode(doc) {
        Ok(i) => i,
        Err((field, message)) => return vec![fail(&field, message)],
    };
    let class = "wsgate";
    if let Some(spec) = &mut ingress.spec {
        spec.ingress_class_name = Some(class.into());
    }
    let mut index = index_for(class);
    index.apply(Object::IngressClass(Box::new(IngressClass {
        metadata: ObjectMeta {
            name: Some(class.into()),
            ..Default::default()
        },
        spec: Some(IngressClassSpec {
            controller: Some(CONTROLLER.into()),
            parameters: None,
        }),
    })));
    index.apply(Object::Ingress(Box::new(ingress)));
    verdicts(&index, fail)
}

/// The errors of a `WebSocketPolicy`: its fields as the API server would decode them, and
/// its sections compiled as they would be on a route. Targets are not looked up.
pub fn check_policy(
    doc: &Value,
    fail: &dyn Fn(&str, String) -> DocumentError,
) -> Vec<DocumentError> {
    // The sections alone first: they are flattened into the spec, which would let a
    // misspelt section through.
    let mut spec = doc.get("spec").cloned().unwrap_or(Value::Null);
    let mut overrides = Value::Null;
    if let Value::Mapping(m) = &mut spec {
        m.remove("targetRefs");
        overrides = m.remove("overrides").unwrap_or(Value::Null);
    }
    if let Err((field, message)) = decode::<PolicyFields>(&spec) {
        return vec![fail(&format!("spec.{field}"), message)];
    }
    if let Err((field, message)) = decode::<Option<PolicyFields>>(&overrides) {
        return vec![fail(&format!("spec.overrides.{field}"), message)];
    }
    let policy: WebSocketPolicy = match decode(doc) {
        Ok(p) => p,
        Err((field, message)) => return vec![fail(&field, message)],
    };
    let mut errors = Vec::new();
    if policy.spec.target_refs.is_empty() {
        errors.push(fail(
            "spec.targetRefs",
            "at least one target is required".into(),
        ));
    }
    let overrides = policy.spec.overrides.iter().map(|o| (o, "overrides."));
    for (sections, prefix) in std::iter::once((&policy.spec.policy, "")).chain(overrides) {
        if let Err(e) = check_fields(sections) {
            let (field, message) = field_and_message(&e);
            let field = field.replacen("spec.", &format!("spec.{prefix}"), 1);
            errors.push(fail(&field, message));
        }
    }
    errors
}

/// An index that accepts catch-all and wildcard routes from any namespace (which namespaces
/// may is an installation setting, not a property of the document).
fn index_for(class: &str) -> Index {
    Index::new(class).with_tenancy(Tenancy::allowing(&["*".to_string()]))
}

/// Every `Accepted: False` of the translation, as errors.
fn verdicts(index: &Index, fail: &dyn Fn(&str, String) -> DocumentError) -> Vec<DocumentError> {
    let translation = index.build();
    let mut out = Vec::new();
    for report in translation.reports.values() {
        for (condition, verdict) in report.conditions() {
            if condition == ACCEPTED && !verdict.status {
                let (field, message) = field_and_message(&verdict.message);
                out.push(fail(&field, format!("{} ({})", message, verdict.reason)));
            }
        }
    }
    out
}

/// Decodes a document as the API server would hand it over; errors name the field.
fn decode<T: DeserializeOwned>(doc: &Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(doc.clone()).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().to_string();
        let message = match message.find(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message,
        };
        (field, message)
    })
}
