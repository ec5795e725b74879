//! The validating webhook over real HTTPS: WebSocketRoutes and Ingresses of wsgate's class
//! are translated beside what the controller already serves (read from the API stand-in),
//! and refused at apply time when the controller would refuse them; a WebSocketPolicy is
//! refused when its sections cannot be applied.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;
mod webhook_support;

use controller_support::objects::{NS, route, service};
use serde_json::{Value, json};
use webhook_support::{World, review_of, world_with};
use wsgate_tests::e2e;
use wsgate_tests::wait::until;

const ROUTE: (&str, &str, &str, &str) = (
    "wsgate.dev",
    "v1alpha1",
    "WebSocketRoute",
    "websocketroutes",
);
const INGRESS: (&str, &str, &str, &str) = ("networking.k8s.io", "v1", "Ingress", "ingresses");

/// A plaintext route for `host` in `namespace` to the Service `echo`.
fn route_in(namespace: &str, name: &str, host: &str) -> Value {
    let mut r = route(name, host, "echo", "unused");
    r["metadata"]["namespace"] = json!(namespace);
    r["spec"].as_object_mut().expect("spec").remove("tls");
    r
}

fn ingress(name: &str, class: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {"ingressClassName": class, "rules": [{"host": "ingress.example.test", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "echo", "port": {"number": 3000}}}}]}}]},
    })
}

/// A controller that serves `chat.example.test` for namespace `apps` and has synced it.
async fn serving_chat() -> World {
    let w = world_with(|api| {
        api.create(json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "wsgate"}, "spec": {"controller": "wsgate.dev/ingress-controller"}}));
        api.create(service("echo"));
        api.create(route_in(NS, "chat", "chat.example.test"));
    })
    .await;
    until(
        || format!("the controller never synced: {}", w.ctl.log()),
        || async { w.ctl.readyz().await == 200 },
    )
    .await;
    w
}

fn message(response: &Value) -> &str {
    response["status"]["message"].as_str().unwrap_or_default()
}

#[e2e(multi_thread)]
async fn a_host_owned_by_another_namespace_is_refused_at_apply_time() {
    let w = serving_chat().await;
    let theft = route_in("intruders", "chat", "chat.example.test");
    let refused = w
        .review(
            "/validate",
            &review_of(ROUTE, "intruders", "CREATE", &theft),
        )
        .await;
    assert_eq!(refused["allowed"], false, "{refused}");
    assert!(
        message(&refused).contains("apps"),
        "the owner is named: {}",
        message(&refused)
    );

    // The owner itself may change its route, and a free host is admitted.
    let mut update = route_in(NS, "chat", "chat.example.test");
    update["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    let own = w
        .review("/validate", &review_of(ROUTE, NS, "UPDATE", &update))
        .await;
    let fresh = route_in("intruders", "lobby", "lobby.example.test");
    let free = w
        .review(
            "/validate",
            &review_of(ROUTE, "intruders", "CREATE", &fresh),
        )
        .await;
    assert_eq!(
        (&own["allowed"], &free["allowed"]),
        (&json!(true), &json!(true)),
        "{own} {free}"
    );
    assert!(
        free["warnings"].to_string().contains("echo"),
        "a Service that does not exist yet is a warning, not a refusal: {free}"
    );
}

#[e2e(multi_thread)]
async fn an_ingress_of_our_class_with_a_bad_annotation_is_refused_naming_it() {
    let w = serving_chat().await;
    let bad = ingress("bad", "wsgate", json!({"wsgate.dev/timeouts.idle": "soon"}));
    let refused = w
        .review("/validate", &review_of(INGRESS, NS, "CREATE", &bad))
        .await;
    assert_eq!(refused["allowed"], false, "{refused}");
    assert!(
        message(&refused).contains("wsgate.dev/timeouts.idle"),
        "{}",
        message(&refused)
    );

    let theirs = ingress(
        "theirs",
        "nginx",
        json!({"wsgate.dev/timeouts.idle": "soon"}),
    );
    let other = w
        .review("/validate", &review_of(INGRESS, NS, "CREATE", &theirs))
        .await;
    assert_eq!(
        other["allowed"], true,
        "another class is not ours to judge: {other}"
    );

    let good = ingress("good", "wsgate", json!({"wsgate.dev/timeouts.idle": "1h"}));
    let ok = w
        .review("/validate", &review_of(INGRESS, NS, "CREATE", &good))
        .await;
    assert_eq!(ok["allowed"], true, "{ok}");
}

const POLICY: (&str, &str, &str, &str) = (
    "wsgate.dev",
    "v1alpha1",
    "WebSocketPolicy",
    "websocketpolicies",
);

/// A WebSocketPolicy for HTTPRoute `chat` with `sections`.
fn policy(sections: Value) -> Value {
    let mut spec = json!({"targetRefs": [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "chat"}]});
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), sections.as_object()) {
        s.extend(extra.clone());
    }
    json!({"apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketPolicy",
           "metadata": {"name": "chat", "namespace": NS}, "spec": spec})
}

#[e2e(multi_thread)]
async fn a_websocketpolicy_that_cannot_apply_is_refused_naming_the_field() {
    let w = serving_chat().await;
    for (sections, field) in [
        (
            json!({"origins": {"allow": ["not a url"]}}),
            "spec.origins.allow[0]",
        ),
        (
            json!({"sessionAfinity": {"type": "SocketIO"}}),
            "sessionAfinity",
        ),
    ] {
        let bad = policy(sections);
        let refused = w
            .review("/validate", &review_of(POLICY, NS, "CREATE", &bad))
            .await;
        assert_eq!(refused["allowed"], false, "{refused}");
        assert!(message(&refused).contains(field), "{}", message(&refused));
    }
    // A target that does not exist yet is the policy's status, not a refusal.
    let good =
        policy(json!({"sessionAffinity": {"type": "SocketIO"}, "timeouts": {"idle": "10m"}}));
    let ok = w
        .review("/validate", &review_of(POLICY, NS, "CREATE", &good))
        .await;
    assert_eq!(ok["allowed"], true, "{ok}");
}
