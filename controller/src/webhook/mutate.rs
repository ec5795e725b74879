//! The mutating webhook: an `AdmissionReview` (v1) for a Pod being created comes in, the
//! same injection as `wsgate inject` runs on it, and the difference goes back as a JSON
//! Patch. A pod that cannot be injected as its annotations ask is refused with the reason
//! rather than started without the sidecar it asked for.

use std::collections::BTreeMap;

use base64::Engine;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde_json::Value;

use crate::inject;
use crate::inject::settings::INJECT;

/// Answers one review (the request body) with a review (the response body).
pub fn review(body: &[u8], image: &str) -> Value {
    let (raw, request) = match parse(body) {
        Ok(parsed) => parsed,
        Err(message) => return to_json(AdmissionResponse::invalid(message)),
    };
    let response = AdmissionResponse::from(&request);
    let pod = &raw["request"]["object"];
    if request.kind.kind != "Pod" || request.operation != Operation::Create || !pod.is_object() {
        return to_json(response);
    }
    if opted_out(pod) {
        return to_json(response);
    }
    let mut injected = pod.clone();
    match inject::inject(&mut injected, &BTreeMap::new(), image) {
        Ok(warnings) => {
            let patch = json_patch::diff(pod, &injected);
            let mut response = match response.with_patch(patch) {
                Ok(r) => r,
                Err(e) => AdmissionResponse::from(&request).deny(format!("wsgate: {e}")),
            };
            if !warnings.is_empty() {
                response.warnings = Some(warnings);
            }
            to_json(response)
        }
        Err(e) => {
            tracing::info!(namespace = ?request.namespace, error = %e, "pod refused: sidecar injection failed");
            to_json(response.deny(format!("wsgate sidecar injection: {e}")))
        }
    }
}

/// The raw review (the pod exactly as sent, for the patch) and the typed request, or why
/// the body is not a review.
pub fn parse(body: &[u8]) -> Result<(Value, AdmissionRequest<DynamicObject>), String> {
    let raw: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_value(raw.clone()).map_err(|e| format!("not an AdmissionReview: {e}"))?;
    let request = review
        .try_into()
        .map_err(|_| "the AdmissionReview has no request".to_string())?;
    Ok((raw, request))
}

/// The response as the JSON body of an `AdmissionReview`, the patch base64-encoded as the
/// API documents it (the types serialize it as an array of numbers).
pub fn to_json(response: AdmissionResponse) -> Value {
    let mut review = serde_json::to_value(response.into_review()).unwrap_or_else(|e| {
        serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "", "allowed": false, "status": {"message": e.to_string()}}})
    });
    let patch = review.get_mut("response").and_then(|r| r.get_mut("patch"));
    if let Some(patch) = patch
        && let Some(numbers) = patch.as_array()
    {
        let bytes: Vec<u8> = numbers
            .iter()
            .filter_map(|n| n.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect();
        *patch = Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    review
}

/// `wsgate.dev/inject: disabled` (annotation or label) keeps a pod of an injected
/// namespace out.
fn opted_out(pod: &Value) -> bool {
    ["annotations", "labels"]
        .iter()
        .any(|k| pod["metadata"][k][INJECT] == "disabled")
}
