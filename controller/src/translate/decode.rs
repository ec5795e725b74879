//! Turns a spec built as JSON (from an Ingress) into a [`RouteSpec`]. A field this wsgate
//! version does not know, or a value it cannot read, refuses the object with a message that
//! names the annotation that set it: nothing an annotation asked for is dropped.

use serde_json::Value;
use wsgate_core::spec::RouteSpec;

use super::annotations::Provenance;
use super::report::reason;

/// Result of decoding.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    /// The spec, or why it is refused.
    pub spec: Result<RouteSpec, Refusal>,
    /// Notes for Events.
    pub warnings: Vec<String>,
}

/// Why a spec was refused: a condition reason and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Condition reason.
    pub reason: &'static str,
    /// Explanation.
    pub message: String,
}

/// Decodes `value`; `provenance` names the annotation behind each field.
pub fn decode_spec(value: Value, provenance: &[Provenance]) -> Decoded {
    let error = match serde_path_to_error::deserialize::<_, RouteSpec>(&value) {
        Ok(spec) => {
            return Decoded {
                spec: Ok(spec),
                warnings: Vec::new(),
            };
        }
        Err(e) => e,
    };
    let path: Vec<String> = error.path().iter().map(|s| s.to_string()).collect();
    let message = error.inner().to_string();
    let field = path.join(".");
    let unknown = message.starts_with("unknown field");
    // The annotation that set this field, or the one whose path the unknown field is in.
    let source = provenance
        .iter()
        .filter(|p| p.path.starts_with(&path) || path.starts_with(&p.path))
        .max_by_key(|p| p.path.len());
    let refusal = match (source, unknown) {
        (Some(p), true) => Refusal {
            reason: reason::UNSUPPORTED_ANNOTATION,
            message: format!(
                "{}: {message} in spec.{field}; the Ingress is not served rather than served without it",
                p.annotation
            ),
        },
        (Some(p), false) => Refusal {
            reason: reason::INVALID_SPEC,
            message: format!("{}: spec.{field}: {message}", p.annotation),
        },
        (None, _) => Refusal {
            reason: reason::INVALID_SPEC,
            message: format!("spec.{field}: {message}"),
        },
    };
    Decoded {
        spec: Err(refusal),
        warnings: Vec::new(),
    }
}
