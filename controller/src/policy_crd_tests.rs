use super::*;

#[test]
fn names_scope_and_status_subresource() {
    let crd = crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("websocketpolicies.wsgate.dev")
    );
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.short_names, Some(vec!["wsp".to_string()]));
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(
        version
            .subresources
            .as_ref()
            .is_some_and(|s| s.status.is_some())
    );
}

/// `crds/` must be what the generator prints; regenerate with
/// `cargo run -p wsgate -- crd` (the second document).
#[test]
fn crds_directory_matches_generated_output() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crds/websocketpolicies.wsgate.dev.yaml"
    );
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = crd_yaml().expect("CRD renders");
    assert!(
        committed == generated,
        "{path} is out of date: write the second document of `cargo run -p wsgate -- crd` to it"
    );
}

#[test]
fn a_policy_reads_from_yaml_with_flattened_sections() {
    let yaml = r#"
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketPolicy
metadata: {name: chat, namespace: apps}
spec:
  targetRefs:
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat, sectionName: socket}
  sessionAffinity: {type: SocketIO}
  timeouts: {idle: 10m}
  origins: {allow: ["https://chat.example.com"]}
  limits: {maxMessageBytes: 65536}
"#;
    let p: WebSocketPolicy = crate::yaml::from_str(yaml).expect("parses");
    assert_eq!(
        p.spec.target_refs[0].section_name.as_deref(),
        Some("socket")
    );
    assert!(p.spec.policy.session_affinity.is_some());
    assert_eq!(
        p.spec.policy.limits.and_then(|l| l.max_message_bytes),
        Some(65536)
    );
    let bad = yaml.replace("idle: 10m", "idel: 10m");
    assert!(
        crate::yaml::from_str::<WebSocketPolicy>(&bad).is_err(),
        "unknown fields are refused"
    );
}

#[test]
fn the_more_specific_policy_wins_section_by_section() {
    let gateway = PolicyFields {
        origins: Some(OriginsSpec {
            allow: vec!["https://a.example".into()],
            ..OriginsSpec::default()
        }),
        limits: Some(LimitsSpec {
            max_connections: Some(10),
            ..LimitsSpec::default()
        }),
        ..PolicyFields::default()
    };
    let route = PolicyFields {
        limits: Some(LimitsSpec {
            max_message_bytes: Some(1),
            ..LimitsSpec::default()
        }),
        ..PolicyFields::default()
    };
    let merged = gateway.overlaid(&route);
    assert_eq!(merged.origins, gateway.origins);
    assert_eq!(merged.limits, route.limits, "a section is replaced whole");
}
