use std::path::Path;

use super::*;

fn check(text: &str) -> Validation {
    validate_documents(text, Path::new("."))
}

const FILE_ROUTE: &str = "
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: chat}
spec:
  rules:
    - path: {type: PathPrefix, value: /ws}
      backend: {addresses: [\"127.0.0.1:3000\"]}
";

const CLUSTER_ROUTE: &str = "
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: chat, namespace: apps}
spec:
  hostnames: [chat.example.com]
  tls: {secretName: chat-tls}
  rules:
    - path: {type: PathPrefix, value: /socket.io/}
      backend: {service: {name: chat, port: 3000}}
";

const INGRESS: &str = "
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: chat
  namespace: apps
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: \"3600\"
spec:
  ingressClassName: wsgate
  rules:
    - host: chat.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: chat, port: {number: 3000}}}
";

#[test]
fn valid_documents_of_every_kind_pass_and_others_are_skipped() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n";
    let all = [FILE_ROUTE, CLUSTER_ROUTE, INGRESS, deployment].join("---\n");
    let v = check(&all);
    assert_eq!(v.errors, Vec::new());
    assert_eq!((v.checked, v.skipped), (3, 1));
}

#[test]
fn every_broken_document_is_reported_with_its_field() {
    let broken = [
        FILE_ROUTE.replace("value: /ws", "value: ws"),
        CLUSTER_ROUTE.replace("  rules:", "  limits: {maxMessageBytes: 0}\n  rules:"),
        CLUSTER_ROUTE
            .replace("name: chat, namespace: apps", "name: other, namespace: apps")
            .replace("hostnames: [chat.example.com]", "hostnames: [\"bad host\"]"),
        INGRESS.replace("proxy-read-timeout", "configuration-snippet"),
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: t}\nspec:\n  timeouts: {idle: soon}\n  rules: []\n".to_string(),
    ]
    .join("---\n");
    let v = check(&broken);
    let shown: Vec<String> = v.errors.iter().map(ToString::to_string).collect();
    assert_eq!(v.errors.len(), 5, "{shown:#?}");
    let fields: Vec<&str> = v.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields[0], "spec.rules[0].path.value", "{shown:#?}");
    assert_eq!(fields[1], "spec.limits.maxMessageBytes", "{shown:#?}");
    assert_eq!(fields[2], "spec.hostnames[0]", "{shown:#?}");
    assert_eq!(
        fields[3], "metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]",
        "{shown:#?}"
    );
    assert_eq!(fields[4], "spec.timeouts.idle", "{shown:#?}");
    assert!(
        shown[0]
            .starts_with("document 1 (WebSocketRoute default/chat): spec.rules[0].path.value: ")
    );
}

#[test]
fn broken_yaml_and_duplicates_name_their_document() {
    let v = check("kind: [unclosed\n");
    assert_eq!(v.errors.len(), 1);
    assert_eq!(v.errors[0].document, "document 1");
    let twice = [FILE_ROUTE, FILE_ROUTE].join("---\n");
    let v = check(&twice);
    assert_eq!(v.errors.len(), 1, "{:?}", v.errors);
    assert_eq!(v.errors[0].field, "metadata.name");
    assert!(v.errors[0].document.starts_with("document 2 "));
}

#[test]
fn compile_messages_split_into_field_and_message() {
    assert_eq!(
        field_and_message("chat: spec.hostnames[0]: not a host"),
        ("spec.hostnames[0]".to_string(), "not a host".to_string())
    );
    assert_eq!(
        field_and_message("spec.tls: needs a Secret"),
        ("spec.tls".to_string(), "needs a Secret".to_string())
    );
    assert_eq!(
        field_and_message("nginx.ingress.kubernetes.io/x: refused; y"),
        (
            "metadata.annotations[nginx.ingress.kubernetes.io/x]".to_string(),
            "refused; y".to_string()
        )
    );
    assert_eq!(
        field_and_message("something else"),
        (String::new(), "something else".to_string())
    );
}

const POLICY: &str = "
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketPolicy
metadata: {name: chat, namespace: apps}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}]
  sessionAffinity: {type: SocketIO}
  origins: {allow: [\"https://chat.example.com\"]}
  auth: {ticket: {algorithm: HS256, secretRef: {name: ticket-key}}}
";

#[test]
fn a_websocketpolicy_is_checked_field_by_field() {
    let v = check(POLICY);
    assert_eq!((v.errors.clone(), v.checked), (Vec::new(), 1));
    for (broken, field) in [
        (
            POLICY.replace("https://chat.example.com", "not a url"),
            "spec.origins.allow[0]",
        ),
        (
            POLICY.replace("sessionAffinity", "sessionAfinity"),
            "spec.sessionAfinity",
        ),
        (
            POLICY.replace("targetRefs: [", "targetRefs: [] #"),
            "spec.targetRefs",
        ),
    ] {
        let v = check(&broken);
        assert_eq!(v.errors.len(), 1, "{broken}: {:?}", v.errors);
        assert_eq!(v.errors[0].field, field, "{:?}", v.errors);
        assert!(v.errors[0].document.contains("WebSocketPolicy apps/chat"));
    }
}
