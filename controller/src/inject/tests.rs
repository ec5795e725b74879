use serde_json::{Value, json};

use super::settings::{INJECTED, ROUTES};
use super::{InjectError, Mode, inject, process, uninject};

fn pod(annotations: Value, containers: Value) -> Value {
    json!({"metadata": {"annotations": annotations}, "spec": {"containers": containers}})
}

fn app(ports: Value) -> Value {
    json!({"name": "app", "image": "example/app:1", "ports": ports})
}

fn injected(mut template: Value) -> Result<(Value, Vec<String>), InjectError> {
    let warnings = inject(&mut template, &Default::default(), "wsgate:test")?;
    Ok((template, warnings))
}

fn message(result: Result<(Value, Vec<String>), InjectError>) -> String {
    result.expect_err("refused").to_string()
}

#[test]
fn a_port_the_pod_already_uses_is_refused_naming_the_annotation_to_change() {
    let t = pod(json!({}), json!([app(json!([{"containerPort": 8080}]))]));
    let m = message(injected(t));
    assert!(
        m.contains("wsgate.dev/proxy-port") && m.contains("8080"),
        "{m}"
    );
}

#[test]
fn a_route_field_annotation_is_checked_like_on_an_ingress() {
    let t = pod(
        json!({"wsgate.dev/origin.allow": "[\"https://a.example\"]"}),
        json!([app(json!([{"containerPort": 3000}]))]),
    );
    let m = message(injected(t));
    assert!(m.contains("wsgate.dev/origin.allow"), "{m}");
    let t = pod(
        json!({"wsgate.dev/timeouts.idle": "soon"}),
        json!([app(json!([{"containerPort": 3000}]))]),
    );
    let m = message(injected(t));
    assert!(m.contains("wsgate.dev/timeouts.idle"), "{m}");
}

#[test]
fn a_routes_configmap_replaces_the_generated_routes() {
    let t = pod(
        json!({"wsgate.dev/routes-configmap": "chat-routes"}),
        json!([app(json!([{"containerPort": 3000}]))]),
    );
    let (t, _) = injected(t).expect("injected");
    assert!(t["metadata"]["annotations"][ROUTES].is_null());
    let volumes = t["spec"]["volumes"].as_array().expect("volumes");
    assert_eq!(volumes[0]["configMap"]["name"], "chat-routes");
}

#[test]
fn a_prestop_of_the_apps_own_is_kept_with_a_warning_and_survives_uninject() {
    let mut container = app(json!([{"name": "http", "containerPort": 3000}]));
    container["lifecycle"] = json!({"preStop": {"sleep": {"seconds": 3}}});
    let original = pod(json!({"team": "chat"}), json!([container]));
    let (mut t, warnings) = injected(original.clone()).expect("injected");
    assert!(
        warnings.iter().any(|w| w.contains("preStop")),
        "{warnings:?}"
    );
    assert_eq!(
        t["spec"]["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"],
        3
    );
    assert!(uninject(&mut t).expect("uninject"));
    assert_eq!(t, original);
}

#[test]
fn an_unnamed_app_port_is_fronted_with_a_warning_about_the_service() {
    let (t, warnings) = injected(pod(
        json!({}),
        json!([app(json!([{"containerPort": 3000}]))]),
    ))
    .expect("injected");
    assert!(
        warnings.iter().any(|w| w.contains("targetPort")),
        "{warnings:?}"
    );
    assert!(t["metadata"]["annotations"][INJECTED].is_string());
}

#[test]
fn malformed_pods_are_refused_without_panicking() {
    for template in [
        json!({"spec": 5}),
        json!({"spec": {"containers": []}}),
        json!({"spec": {"containers": ["app"]}}),
        json!({"spec": {"containers": [{"name": "a", "ports": "x"}]}}),
        json!({"metadata": {"annotations": {"wsgate.dev/sidecar-injected": "{"}}, "spec": {}}),
        json!([1, 2]),
    ] {
        assert!(injected(template.clone()).is_err(), "{template}");
    }
}

#[test]
fn disabled_workloads_are_skipped_and_other_kinds_pass_through() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n\
                apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {wsgate.dev/inject: disabled}\n\
                spec:\n  containers: [{name: a, image: i, ports: [{containerPort: 1}]}]\n";
    let out = process(yaml, Mode::Inject, "wsgate:test").expect("processed");
    assert_eq!((out.changed, out.skipped), (0, 1));
    assert_eq!(
        crate::yaml::documents(&out.text).expect("yaml"),
        crate::yaml::documents(yaml).expect("yaml")
    );
}

#[test]
fn the_sidecar_uses_the_charts_resources() {
    let values: Value =
        crate::yaml::from_str(include_str!("../../../charts/wsgate-sidecar/values.yaml"))
            .expect("chart values");
    assert_eq!(values["wsgate"]["resources"], super::sidecar::resources());
}

#[test]
fn cronjob_and_daemonset_templates_are_found() {
    let template = r#"{metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: i, ports: [{containerPort: 3000}]}]}}"#;
    let yaml = format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: c}}\n\
         spec: {{schedule: '* * * * *', jobTemplate: {{spec: {{template: {template}}}}}}}\n---\n\
         apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: d}}\n\
         spec: {{selector: {{matchLabels: {{a: b}}}}, template: {template}}}\n"
    );
    let out = process(&yaml, Mode::Inject, "wsgate:test").expect("processed");
    assert_eq!(out.changed, 2, "{}", out.text);
    let docs = crate::yaml::documents(&out.text).expect("yaml");
    let cron = &docs[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(cron["initContainers"][0]["restartPolicy"], "Always");
    assert_eq!(
        docs[1]["spec"]["template"]["spec"]["initContainers"][0]["name"],
        "wsgate"
    );
}
