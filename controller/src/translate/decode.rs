//! Turns a spec built as JSON (from an Ingress) into a [`RouteSpec`]. A field this wsgate
//! version does not know is dropped with a warning naming the annotation that set it, or
//! refuses the object when ignoring it would weaken security.

use serde_json::Value;
use wsgate_core::spec::RouteSpec;

use super::annotations::Provenance;

/// Result of decoding.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    /// The spec, or why it is invalid.
    pub spec: Result<RouteSpec, Refusal>,
    /// Dropped fields.
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

/// Bound on dropped fields; each round removes one, so this is generous.
const MAX_ROUNDS: usize = 64;

/// Decodes `value`, dropping unknown fields as described above.
pub fn decode_spec(mut value: Value, provenance: &[Provenance]) -> Decoded {
    use super::report::reason;
    let mut warnings = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let error = match serde_path_to_error::deserialize::<_, RouteSpec>(&value) {
            Ok(spec) => {
                return Decoded {
                    spec: Ok(spec),
                    warnings,
                };
            }
            Err(e) => e,
        };
        let path: Vec<String> = error.path().iter().map(|s| s.to_string()).collect();
        let message = error.inner().to_string();
        if !message.starts_with("unknown field") || !remove_path(&mut value, &path) {
            let refusal = Refusal {
                reason: reason::INVALID_SPEC,
                message: format!("spec.{}: {message}", path.join(".")),
            };
            return Decoded {
                spec: Err(refusal),
                warnings,
            };
        }
        let sources: Vec<&Provenance> = provenance
            .iter()
            .filter(|p| p.path.starts_with(&path))
            .collect();
        let field = path.join(".");
        if let Some(p) = sources.iter().find(|p| p.required) {
            let refusal = Refusal {
                reason: reason::UNSUPPORTED_ANNOTATION,
                message: format!(
                    "{} cannot be enforced (this wsgate version has no spec.{field}); the Ingress is not served rather than served unprotected",
                    p.annotation
                ),
            };
            return Decoded {
                spec: Err(refusal),
                warnings,
            };
        }
        if sources.is_empty() {
            warnings.push(format!(
                "ignored spec.{field}: this wsgate version does not support it"
            ));
        }
        for p in sources {
            warnings.push(format!(
                "ignored annotation {}: this wsgate version has no spec.{field}",
                p.annotation
            ));
        }
    }
    let refusal = Refusal {
        reason: reason::INVALID_SPEC,
        message: "too many unsupported fields".into(),
    };
    Decoded {
        spec: Err(refusal),
        warnings,
    }
}

/// Removes the field at `path` (object keys only); false when there is nothing to remove.
fn remove_path(value: &mut Value, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = value;
    for segment in parents {
        match current.get_mut(segment.as_str()) {
            Some(next) => current = next,
            None => return false,
        }
    }
    current
        .as_object_mut()
        .is_some_and(|m| m.remove(last.as_str()).is_some())
}
