//! The validating webhook: a WebSocketPolicy whose sections cannot be applied is refused. A
//! WebSocketRoute or an Ingress of wsgate's class being created or updated is translated beside everything the controller already serves, as the controller
//! will translate it once stored. What the controller would refuse (a field it cannot
//! honour, a host or path another namespace owns) is refused now with the same message; what
//! may still resolve later (a Service or Secret not created yet) is admitted with a warning.

use k8s_openapi::api::networking::v1::Ingress;
use kube::core::admission::{AdmissionResponse, Operation};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::mutate::{parse, to_json};
use crate::crd::WebSocketRoute;
use crate::policy_crd::{PolicyFields, WebSocketPolicy};
use crate::translate::gateway::policy::check_fields;
use crate::translate::report::ACCEPTED;
use crate::translate::{Index, Object};

/// Answers one review (the request body) with a review, against the index `snapshot`.
pub fn review(body: &[u8], snapshot: &Index) -> Value {
    let (raw, request) = match parse(body) {
        Ok(parsed) => parsed,
        Err(message) => return to_json(AdmissionResponse::invalid(message)),
    };
    let response = AdmissionResponse::from(&request);
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return to_json(response);
    }
    let raw_object = raw["request"]["object"].clone();
    if (request.kind.group.as_str(), request.kind.kind.as_str())
        == ("wsgate.dev", "WebSocketPolicy")
    {
        return to_json(policy(raw_object, response));
    }
    let object = match (request.kind.group.as_str(), request.kind.kind.as_str()) {
        ("wsgate.dev", "WebSocketRoute") => {
            decode(raw_object).map(|r: WebSocketRoute| Object::Route(Box::new(r)))
        }
        ("networking.k8s.io", "Ingress") => {
            decode(raw_object).map(|i: Ingress| Object::Ingress(Box::new(i)))
        }
        _ => return to_json(response),
    };
    let object = match object {
        Ok(object) => object,
        Err(message) => return to_json(response.deny(message)),
    };
    let Some(report) = snapshot.preview(object) else {
        return to_json(response);
    };
    let mut warnings = Vec::new();
    for (type_, verdict) in report.conditions() {
        if verdict.status {
            continue;
        }
        if type_ == ACCEPTED {
            let message = format!(
                "{} ({}): {}",
                request.kind.kind, verdict.reason, verdict.message
            );
            return to_json(response.deny(message));
        }
        warnings.push(format!("{type_} {}: {}", verdict.reason, verdict.message));
    }
    let mut response = response;
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    to_json(response)
}

/// A WebSocketPolicy is refused when its sections cannot be applied as written; a target
/// that does not exist yet, or that an older policy holds, is its status's business.
fn policy(raw: Value, response: AdmissionResponse) -> AdmissionResponse {
    // The sections alone first: flattened into the spec, a misspelt one would pass.
    let mut sections = raw["spec"].clone();
    let mut overrides = Value::Null;
    if let Some(m) = sections.as_object_mut() {
        m.remove("targetRefs");
        overrides = m.remove("overrides").unwrap_or(Value::Null);
    }
    if let Err(message) = decode::<PolicyFields>(sections) {
        return response.deny(format!("spec.{message}"));
    }
    if let Err(message) = decode::<Option<PolicyFields>>(overrides) {
        return response.deny(format!("spec.overrides.{message}"));
    }
    let p = match decode::<WebSocketPolicy>(raw) {
        Err(message) => return response.deny(message),
        Ok(p) => p,
    };
    let checked = check_fields(&p.spec.policy).and_then(|()| match &p.spec.overrides {
        Some(o) => check_fields(o).map_err(|e| format!("overrides: {e}")),
        None => Ok(()),
    });
    match checked {
        Ok(()) => response,
        Err(message) => response.deny(format!("WebSocketPolicy (Invalid): {message}")),
    }
}

/// The object as its type, or the field that does not fit.
fn decode<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}
