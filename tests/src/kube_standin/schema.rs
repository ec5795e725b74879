//! CRD schema validation of what is written, as the API server does for custom resources:
//! types, required fields, enums, `date-time` and integer formats, minimum and maximum,
//! int-or-string; unknown fields are pruned. The kinds whose schema the stand-in has are
//! checked: the WebSocketRoute and WebSocketPolicy (their CRDs in `crds/`) and the Gateway API kinds wsgate serves
//! (`gateway_api_schemas.yaml`).

use serde_json::{Map, Value};

const WEBSOCKETROUTE_CRD: &str = include_str!("../../../crds/websocketroutes.wsgate.dev.yaml");

const WEBSOCKETPOLICY_CRD: &str = include_str!("../../../crds/websocketpolicies.wsgate.dev.yaml");

const GATEWAY_API_SCHEMAS: &str = include_str!("gateway_api_schemas.yaml");

/// The schema of a Gateway API kind (`GatewayClass`, `Gateway`, `HTTPRoute`,
/// `ReferenceGrant`), or `None` for another kind.
pub fn gateway_api_schema(kind: &str) -> Option<Value> {
    let all: Value = serde_yaml::from_str(GATEWAY_API_SCHEMAS).ok()?;
    let schema = all.get(kind)?.clone();
    Some(schema)
}

/// The `openAPIV3Schema` of the WebSocketRoute CRD.
pub fn websocketroute_schema() -> Value {
    let crd: Value = serde_yaml::from_str(WEBSOCKETROUTE_CRD).unwrap_or(Value::Null);
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// The `openAPIV3Schema` of the WebSocketPolicy CRD.
pub fn websocketpolicy_schema() -> Value {
    let crd: Value = serde_yaml::from_str(WEBSOCKETPOLICY_CRD).unwrap_or(Value::Null);
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// Validates `object` against `schema`, pruning unknown fields; the error names the field.
pub fn validate(object: &mut Value, schema: &Value) -> Result<(), String> {
    check(object, schema, "")
}

fn check(value: &mut Value, schema: &Value, path: &str) -> Result<(), String> {
    if value.is_null() && schema["nullable"] == Value::Bool(true) {
        return Ok(());
    }
    if schema["x-kubernetes-int-or-string"] == Value::Bool(true) {
        return match value {
            Value::String(_) => Ok(()),
            Value::Number(n) if n.is_i64() => Ok(()),
            _ => Err(format!("{path}: must be an integer or a string")),
        };
    }
    if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true) {
        return Ok(());
    }
    match schema["type"].as_str() {
        Some("object") => object(value, schema, path),
        Some("array") => {
            let Value::Array(items) = value else {
                return Err(format!("{path}: must be an array"));
            };
            for (i, item) in items.iter_mut().enumerate() {
                check(item, &schema["items"], &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Some("string") => string(value, schema, path),
        Some("integer") => number(value, schema, path, true),
        Some("number") => number(value, schema, path, false),
        Some("boolean") if value.is_boolean() => Ok(()),
        Some("boolean") => Err(format!("{path}: must be a boolean")),
        _ => Ok(()),
    }
}

fn object(value: &mut Value, schema: &Value, path: &str) -> Result<(), String> {
    let Value::Object(fields) = value else {
        return Err(format!("{path}: must be an object"));
    };
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        if !fields.contains_key(name) {
            return Err(format!("{}: Required value", join(path, name)));
        }
    }
    let props = schema["properties"].as_object();
    let extra = &schema["additionalProperties"];
    let mut pruned = Map::new();
    for (name, mut child) in std::mem::take(fields) {
        let child_path = join(path, &name);
        let child_schema = match props.and_then(|p| p.get(&name)) {
            Some(s) => s,
            None if extra.is_object() => extra,
            // Metadata and the kind's envelope are the API server's, not the schema's.
            None if path.is_empty()
                && matches!(name.as_str(), "apiVersion" | "kind" | "metadata") =>
            {
                pruned.insert(name, child);
                continue;
            }
            None => continue,
        };
        check(&mut child, child_schema, &child_path)?;
        pruned.insert(name, child);
    }
    *fields = pruned;
    Ok(())
}

fn string(value: &Value, schema: &Value, path: &str) -> Result<(), String> {
    let Value::String(text) = value else {
        return Err(format!("{path}: must be a string"));
    };
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.iter().any(|a| a == value)
    {
        return Err(format!("{path}: Unsupported value: {text:?}"));
    }
    if schema["format"] == "date-time" && !is_date_time(text) {
        return Err(format!(
            "{path}: must be an RFC 3339 date-time, got {text:?}"
        ));
    }
    Ok(())
}

fn number(value: &Value, schema: &Value, path: &str, integer: bool) -> Result<(), String> {
    let Value::Number(n) = value else {
        return Err(format!("{path}: must be a number"));
    };
    if integer && !(n.is_i64() || n.is_u64()) {
        return Err(format!("{path}: must be an integer"));
    }
    let v = n.as_f64().unwrap_or(f64::NAN);
    let range = match schema["format"].as_str() {
        Some("int32") => (f64::from(i32::MIN), f64::from(i32::MAX)),
        _ => (f64::MIN, f64::MAX),
    };
    let min = schema["minimum"].as_f64().unwrap_or(range.0).max(range.0);
    let max = schema["maximum"].as_f64().unwrap_or(range.1).min(range.1);
    if v < min || v > max {
        return Err(format!("{path}: {v} is outside {min}..={max}"));
    }
    Ok(())
}

/// `2026-12-03T10:00:00Z` or with fractions and an offset.
fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (text.ends_with('Z') || text.ends_with('z') || text[19..].contains(['+', '-']))
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn route_objects_are_checked_like_the_api_server_does() {
        let schema = websocketroute_schema();
        assert!(schema.is_object(), "the CRD has a schema");
        let good = json!({"apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketRoute", "metadata": {"name": "r"},
            "spec": {"rules": [{"backend": {"service": {"name": "s", "port": 80}}}], "noSuchField": 1},
            "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                "lastTransitionTime": "2026-12-03T10:00:00Z"}]}});
        let mut pruned = good.clone();
        validate(&mut pruned, &schema).expect("valid");
        assert!(
            pruned["spec"].get("noSuchField").is_none(),
            "unknown fields are pruned"
        );
        let bad = [
            (json!({"spec": {"rules": "x"}}), "spec.rules"),
            (json!({"spec": {}}), "spec.rules"),
            (
                json!({"spec": {"rules": [], "drain": {"closeCode": 70000}}}),
                "spec.drain.closeCode",
            ),
            (
                json!({"spec": {"rules": []}, "status": {"conditions": [{"type": "A", "status": "True", "reason": "R", "message": ""}]}}),
                "lastTransitionTime",
            ),
            (
                json!({"spec": {"rules": []}, "status": {"conditions": [{"type": "A", "status": "True", "reason": "R", "message": "", "lastTransitionTime": "yesterday"}]}}),
                "date-time",
            ),
            (
                json!({"spec": {"rules": [], "loadBalancing": {"algorithm": "Fastest"}}}),
                "Unsupported value",
            ),
        ];
        for (mut object, needle) in bad {
            let err = validate(&mut object, &schema).expect_err(needle);
            assert!(err.contains(needle), "{err}");
        }
    }
}
