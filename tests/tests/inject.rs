//! `wsgate inject` on realistic workloads, run as a user runs it: the output is compared with
//! the expected manifests, validated strictly against the Kubernetes schemas, stable under a
//! second injection, reversed exactly by `--uninject`, and its routes start a real sidecar.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use wsgate_tests::e2e;
use wsgate_tests::manifests::{documents, validate_strict};
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::{Scratch, Wsgate, binary};

const ROUTES: &str = "wsgate.dev/sidecar-routes";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("inject")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    output_within(
        Command::new(binary()).arg("inject").args(args),
        "wsgate inject",
        Duration::from_secs(30),
    )
}

/// `wsgate inject ARGS FILE`, which must succeed: its standard output.
fn inject(args: &[&str], file: &Path) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.push(file.to_str().expect("utf-8 path"));
    let out = run(&all);
    assert!(
        out.status.success(),
        "wsgate inject {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// [`inject`] on text instead of a file.
fn inject_text(args: &[&str], text: &str) -> String {
    let dir = Scratch::new("inject");
    let file = dir.path("in.yaml");
    std::fs::write(&file, text).expect("write");
    inject(args, &file)
}

/// The pod template of a workload document (a Pod is its own).
fn template(doc: &Value) -> &Value {
    if doc["kind"] == "Pod" {
        doc
    } else {
        &doc["spec"]["template"]
    }
}

fn check_workload(name: &str) {
    let input = fixture(&format!("{name}.yaml"));
    let expected =
        std::fs::read_to_string(fixture(&format!("{name}.injected.yaml"))).expect("expected");
    let injected = inject(&[], &input);
    assert_eq!(
        documents(&injected),
        documents(&expected),
        "{name}: the injected manifests differ from the expected ones; got:\n{injected}"
    );
    validate_strict(&injected);
    assert_eq!(
        documents(&inject_text(&[], &injected)),
        documents(&injected),
        "{name}: injecting twice changes nothing"
    );
    let original = std::fs::read_to_string(&input).expect("input");
    assert_eq!(
        documents(&inject_text(&["--uninject"], &injected)),
        documents(&original),
        "{name}: --uninject restores the workload exactly"
    );
}

#[e2e]
fn a_node_socketio_deployment_gets_wsgate_as_a_native_sidecar() {
    check_workload("socketio-deployment");
    let injected = inject(&[], &fixture("socketio-deployment.yaml"));
    let docs = documents(&injected);
    assert_eq!(docs[0]["kind"], "Service", "other documents pass through");
    let pod = &template(&docs[1])["spec"];
    let sidecar = &pod["initContainers"][0];
    assert_eq!(sidecar["restartPolicy"], "Always");
    assert_eq!(sidecar["startupProbe"]["httpGet"]["path"], "/readyz");
    // The Service's `targetPort: http` now reaches wsgate's TLS port.
    assert!(
        sidecar["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["name"] == "http" && p["containerPort"] == 8443)
    );
    let app = &pod["containers"][0];
    assert_eq!(app["lifecycle"]["preStop"]["httpGet"]["path"], "/drain");
    assert_eq!(
        app["readinessProbe"]["httpGet"]["port"], 3000,
        "the app's probe still reaches the app"
    );
    // 30s drain + 30s for the app (Kubernetes' default) + 5s for wsgate.
    assert_eq!(pod["terminationGracePeriodSeconds"], 65);
}

#[e2e]
fn a_multi_container_statefulset_is_fronted_on_the_annotated_port_only() {
    check_workload("multi-container-statefulset");
}

#[e2e]
fn an_injected_pod_is_refreshed_from_changed_annotations_and_read_from_stdin() {
    let injected = std::fs::read_to_string(fixture("injected-pod.yaml")).expect("fixture");
    assert_eq!(
        documents(&inject(&[], &fixture("injected-pod.yaml"))),
        documents(&injected),
        "injecting an injected pod changes nothing"
    );
    let edited = injected.replace(
        "wsgate.dev/paths: /ws,/socket.io/",
        "wsgate.dev/paths: /live",
    );
    assert_ne!(edited, injected, "the fixture carries the paths annotation");
    let dir = Scratch::new("stdin");
    let file = dir.path("pod.yaml");
    std::fs::write(&file, &edited).expect("write");
    let out = output_within(
        Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" inject - < \"{}\"", file.display()))
            .arg(binary()),
        "wsgate inject -",
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refreshed = String::from_utf8(out.stdout).expect("utf-8");
    let pod = &documents(&refreshed)[0];
    let routes = pod["metadata"]["annotations"][ROUTES]
        .as_str()
        .expect("routes");
    assert!(
        routes.contains("value: /live") && !routes.contains("/socket.io/"),
        "{routes}"
    );
    assert_eq!(
        pod["spec"]["initContainers"].as_array().map(Vec::len),
        Some(1),
        "one sidecar"
    );
    validate_strict(&refreshed);
    assert_eq!(
        documents(&inject_text(&[], &refreshed)),
        documents(&refreshed)
    );
}

#[e2e]
async fn the_generated_routes_file_is_served_by_a_real_wsgate() {
    let injected = inject(&[], &fixture("multi-container-statefulset.yaml"));
    let docs = documents(&injected);
    let routes = template(&docs[0])["metadata"]["annotations"][ROUTES]
        .as_str()
        .expect("generated routes")
        .to_string();
    let gw = Wsgate::launch(&routes).await;
    gw.wait_ready().await;
    assert_eq!(
        gw.metric("wsgate_route_table_version").await,
        1.0,
        "{}",
        gw.log()
    );
}

#[e2e]
fn an_ambiguous_pod_is_refused_naming_the_document_and_the_annotation() {
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: two-ports}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers:\n        - name: app\n          image: example/app:1\n          ports: [{containerPort: 3000}, {containerPort: 3001}]\n";
    let dir = Scratch::new("ambiguous");
    let file = dir.path("in.yaml");
    std::fs::write(&file, yaml).expect("write");
    let out = run(&[file.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Deployment two-ports (document 1)") && err.contains("wsgate.dev/app-port"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing half-written");
}
