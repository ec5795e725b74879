//! The controller's admission webhooks over real HTTPS, called the way the API server calls
//! them: an `AdmissionReview` (v1) with the defaulted Pod being created. The JSON Patch that
//! comes back is applied to that Pod, which must then be the Pod `wsgate inject` writes and
//! valid against the Kubernetes schemas.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;

mod webhook_support;

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};
use support::certs::{Alg, Ca};
use support::write_pair;
use webhook_support::{SERVICE_DNS, review_of, world};
use wsgate_tests::e2e;
use wsgate_tests::manifests::{documents, validate_strict};
use wsgate_tests::tls::{Versions, client_config, tls_connect};
use wsgate_tests::wait::until;

/// An `AdmissionReview` as the API server sends it for a Pod in namespace `games`.
fn admission_review(operation: &str, pod: &Value) -> Value {
    let mut review = review_of(("", "v1", "Pod", "pods"), "games", operation, pod);
    review["request"]["userInfo"] = json!({
        "username": "system:serviceaccount:kube-system:statefulset-controller",
        "uid": "3b0fd5b5-0a9f-4a4c-9d43-7f3c1c1c0f11",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
    });
    review
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("inject")
        .join(name);
    std::fs::read_to_string(path).expect("fixture")
}

/// The Pod a StatefulSet controller creates from the fixture's template, with the defaults
/// the API server fills in before admission.
fn created_pod(template: &Value) -> Value {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"].clone(), "spec": template["spec"].clone()});
    let meta = &mut pod["metadata"];
    meta["name"] = json!("arena-0");
    meta["namespace"] = json!("games");
    meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "arena",
        "uid": "b1c6f1d2-1111-4c3e-9a55-0d8e7f1a2b3c", "controller": true, "blockOwnerDeletion": true}]);
    let spec = &mut pod["spec"];
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("securityContext", json!({})),
        ("enableServiceLinks", json!(true)),
    ] {
        spec[k] = v;
    }
    for list in ["containers", "initContainers"] {
        for c in spec[list].as_array_mut().into_iter().flatten() {
            c["imagePullPolicy"] = json!("IfNotPresent");
            c["terminationMessagePath"] = json!("/dev/termination-log");
            c["terminationMessagePolicy"] = json!("File");
            c["resources"] = json!({});
            for p in c["ports"].as_array_mut().into_iter().flatten() {
                p["protocol"] = json!("TCP");
            }
        }
    }
    pod
}

fn patch_of(response: &Value) -> json_patch::Patch {
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().expect("patch"))
        .expect("base64 patch");
    serde_json::from_slice(&bytes).expect("a JSON Patch")
}

#[e2e(multi_thread)]
async fn a_created_pod_is_patched_into_the_pod_wsgate_inject_writes() {
    let w = world().await;
    let input = documents(&fixture("multi-container-statefulset.yaml"));
    let expected = documents(&fixture("multi-container-statefulset.injected.yaml"));
    let pod = created_pod(&input[0]["spec"]["template"]);

    let response = w.review("/inject", &admission_review("CREATE", &pod)).await;
    assert_eq!(response["allowed"], true, "{response}");
    let mut patched = pod.clone();
    json_patch::patch(&mut patched, &patch_of(&response)).expect("the patch applies");

    let want = &expected[0]["spec"]["template"];
    assert_eq!(
        patched["metadata"]["annotations"],
        want["metadata"]["annotations"]
    );
    let (got, want) = (&patched["spec"], &want["spec"]);
    let sidecar = |spec: &Value| {
        spec["initContainers"]
            .as_array()
            .and_then(|l| l.last())
            .cloned()
    };
    assert_eq!(sidecar(got), sidecar(want), "the same native sidecar");
    assert_eq!(got["initContainers"][1]["restartPolicy"], "Always");
    assert_eq!(got["volumes"], want["volumes"]);
    assert_eq!(
        got["terminationGracePeriodSeconds"],
        want["terminationGracePeriodSeconds"]
    );
    assert_eq!(
        got["containers"][1]["lifecycle"],
        want["containers"][1]["lifecycle"]
    );
    assert_eq!(
        got["containers"][1]["ports"][0],
        json!({"containerPort": 7000, "protocol": "TCP"})
    );
    let yaml = serde_yaml::to_string(&patched).expect("yaml");
    tokio::task::spawn_blocking(move || validate_strict(&yaml))
        .await
        .expect("validation");

    // The pod as stored is injected already: a second pass changes nothing.
    let again = w
        .review("/inject", &admission_review("CREATE", &patched))
        .await;
    assert_eq!(again["allowed"], true);
    assert!(patch_of(&again).0.is_empty(), "{again}");
}

#[e2e(multi_thread)]
async fn pods_that_cannot_be_injected_are_refused_and_opted_out_ones_pass() {
    let w = world().await;
    let mut pod = created_pod(
        &documents(&fixture("multi-container-statefulset.yaml"))[0]["spec"]["template"],
    );
    pod["metadata"]["annotations"]
        .as_object_mut()
        .expect("annotations")
        .remove("wsgate.dev/app-port");
    pod["spec"]["containers"] = json!([pod["spec"]["containers"][1].clone()]);
    let refused = w.review("/inject", &admission_review("CREATE", &pod)).await;
    assert_eq!(refused["allowed"], false, "{refused}");
    let message = refused["status"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("wsgate.dev/app-port"), "{message}");

    pod["metadata"]["annotations"]["wsgate.dev/inject"] = json!("disabled");
    let passed = w.review("/inject", &admission_review("CREATE", &pod)).await;
    assert_eq!(passed["allowed"], true);
    assert!(
        passed["patch"].is_null(),
        "an opted-out pod is left alone: {passed}"
    );

    let (status, body) = w.post("/inject", &admission_review("UPDATE", &pod)).await;
    assert_eq!((status, &body["response"]["allowed"]), (200, &json!(true)));
    assert!(
        body["response"]["patch"].is_null(),
        "only creations are injected"
    );

    let (status, body) = w.post("/inject", &json!({"kind": "NotAReview"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["allowed"], false, "{body}");
    assert_eq!(w.post("/nowhere", &json!({})).await.0, 404);
}

#[e2e(multi_thread)]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let w = world().await;
    let next = Ca::root("wsgate webhook test CA, rotated");
    write_pair(&w.certs.0, &next.leaf(&[SERVICE_DNS], Alg::Ecdsa));
    let trusting_next = client_config(&next.pem, Versions::Both);
    until(
        || format!("the rotated certificate was never served: {}", w.ctl.log()),
        || {
            let tls = trusting_next.clone();
            async move { tls_connect(w.addr, SERVICE_DNS, tls).await.is_ok() }
        },
    )
    .await;
    assert!(
        tls_connect(w.addr, SERVICE_DNS, w.tls.clone())
            .await
            .is_err(),
        "the old certificate is no longer served"
    );
}
