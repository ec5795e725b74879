use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrArray;

use super::*;

/// Checks the rules of a structural schema that generated schemas tend to break: every
/// node has a type (or is int-or-string / preserve-unknown-fields), `properties` and
/// `additionalProperties` are not both set, and `anyOf`/`oneOf` branches carry no type.
fn structural_errors(schema: &JSONSchemaProps, path: &str, errors: &mut Vec<String>) {
    let special = schema.x_kubernetes_int_or_string == Some(true)
        || schema.x_kubernetes_preserve_unknown_fields == Some(true);
    if schema.type_.is_none() && !special {
        errors.push(format!("{path}: no type"));
    }
    if schema.properties.is_some() && schema.additional_properties.is_some() {
        errors.push(format!("{path}: properties and additionalProperties"));
    }
    for branch in schema.any_of.iter().chain(schema.one_of.iter()).flatten() {
        if branch.type_.is_some() || branch.description.is_some() {
            errors.push(format!(
                "{path}: anyOf/oneOf branch with type or description"
            ));
        }
    }
    for (name, child) in schema.properties.iter().flatten() {
        structural_errors(child, &format!("{path}.{name}"), errors);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(items)) = &schema.items {
        structural_errors(items, &format!("{path}[]"), errors);
    }
}

fn schema() -> JSONSchemaProps {
    crd().spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema)
        .expect("the CRD has a schema")
}

#[test]
fn schema_is_structural() {
    let mut errors = Vec::new();
    structural_errors(&schema(), "", &mut errors);
    assert!(errors.is_empty(), "not structural: {errors:#?}");
}

#[test]
fn names_scope_status_and_columns() {
    let crd = crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("websocketroutes.wsgate.dev")
    );
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.short_names, Some(vec!["wsr".to_string()]));
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(
        version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some()
    );
    let columns: Vec<_> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["Hosts", "Backend", "Ready", "Age"]);
}

#[test]
fn service_port_is_int_or_string() {
    let schema = schema();
    let port = schema
        .properties
        .as_ref()
        .and_then(|p| p.get("spec"))
        .and_then(|s| s.properties.as_ref()?.get("rules"))
        .and_then(|r| match r.items.as_ref()? {
            JSONSchemaPropsOrArray::Schema(s) => Some(s.clone()),
            JSONSchemaPropsOrArray::Schemas(_) => None,
        })
        .and_then(|rule| {
            rule.properties?
                .get("backend")?
                .properties
                .clone()?
                .get("service")?
                .properties
                .clone()?
                .get("port")
                .cloned()
        })
        .expect("spec.rules[].backend.service.port exists");
    assert_eq!(port.x_kubernetes_int_or_string, Some(true));
    assert!(port.any_of.is_none());
}

/// The spec is the routes-file schema: a document in the file format reads as a resource.
#[test]
fn routes_file_document_reads_as_resource() {
    let yaml = r#"
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: chat, namespace: default}
spec:
  hostnames: ["chat.example.com"]
  rules:
    - path: {type: PathPrefix, value: /socket.io/}
      backend: {service: {name: chat, port: http}}
    - backend: {service: {name: chat, port: 3000}}
  timeouts: {idle: 1h}
"#;
    let route: WebSocketRoute = crate::yaml::from_str(yaml).expect("valid resource");
    assert_eq!(route.spec.route.hostnames, ["chat.example.com"]);
    let ports: Vec<_> = route
        .spec
        .route
        .rules
        .iter()
        .map(|r| r.backend.service.as_ref().map(|s| s.port.clone()))
        .collect();
    use wsgate_core::spec::ServicePort;
    assert_eq!(
        ports,
        [
            Some(ServicePort::Name("http".into())),
            Some(ServicePort::Number(3000))
        ]
    );
    let bad = yaml.replace("idle: 1h", "idle: soon");
    assert!(
        crate::yaml::from_str::<WebSocketRoute>(&bad).is_err(),
        "field values are checked"
    );
}

/// `crds/` must be what `wsgate crd` prints; regenerate with
/// `cargo run -p wsgate -- crd > crds/websocketroutes.wsgate.dev.yaml`.
#[test]
fn crds_directory_matches_generated_output() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crds/websocketroutes.wsgate.dev.yaml"
    );
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = crd_yaml().expect("CRD renders");
    assert!(
        committed == generated,
        "{path} is out of date: run `cargo run -p wsgate -- crd > crds/websocketroutes.wsgate.dev.yaml`"
    );
}

#[test]
fn conditions_follow_metav1_condition_and_integer_formats_are_recognised() {
    let yaml = crd_yaml().expect("render");
    for needle in [
        "x-kubernetes-list-type: map",
        "x-kubernetes-list-map-keys:\n                - type",
        "format: date-time",
        "- lastTransitionTime",
        "loadBalancer:",
        "ingressClassName:",
    ] {
        assert!(yaml.contains(needle), "the CRD lacks {needle:?}");
    }
    for format in ["uint8", "uint16", "uint32", "uint64"] {
        assert!(
            !yaml.contains(&format!("format: {format}")),
            "format {format}"
        );
    }
}

#[test]
fn cel_rules_guard_drain_codes_and_tls_sources_at_apply_time() {
    let spec = schema().properties.expect("props")["spec"].clone();
    let props = spec.properties.expect("spec props");
    let rules = |field: &str| -> Vec<String> {
        props[field]
            .x_kubernetes_validations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.rule)
            .collect()
    };
    let drain = rules("drain");
    assert_eq!(drain.len(), 1, "{drain:?}");
    // The rule's ranges are the ones `compile` accepts: 1004 and 2000 are refused by both.
    for (code, sendable) in [
        (1001, true),
        (1004, false),
        (2000, false),
        (4000, true),
        (5000, false),
    ] {
        let yaml = format!(
            "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: r}}\nspec:\n  drain: {{closeCode: {code}}}\n  rules: [{{backend: {{addresses: [\"127.0.0.1:1\"]}}}}]\n"
        );
        assert_eq!(
            wsgate_core::config::load_str(&yaml).is_ok(),
            sendable,
            "{code}"
        );
        let in_rule = [(1000, 1003), (1007, 1014), (3000, 4999)]
            .iter()
            .any(|(lo, hi)| {
                drain[0].contains(&format!(">= {lo} && self.closeCode <= {hi}"))
                    && (*lo..=*hi).contains(&code)
            });
        assert_eq!(in_rule, sendable, "{code}");
    }
    assert_eq!(rules("tls").len(), 2);
}
