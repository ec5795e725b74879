//! Two namespaces in one cluster: the namespace that claimed a host first owns it, so another
//! namespace can neither take its undeclared paths nor serve its own certificate for it, and
//! catch-all or wildcard routes are accepted only from namespaces the operator allows.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;

use controller_support::http::{STEP, get};
use controller_support::{Controller, eventually};
use serde_json::{Value, json};
use support::certs::{Alg, Ca};
use wsgate_tests::backend::Backend;
use wsgate_tests::client::http_get;
use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::tls::{Versions, client_config, wss_connect};

const SHARED: &str = "shared.example.test";

fn objects(ns: &str, port: u16, chain: &str, key: &str) -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app", "namespace": ns},
               "spec": {"type": "ClusterIP", "ports": [{"name": "ws", "port": 3000}]}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": "app-1", "namespace": ns, "labels": {
                   "kubernetes.io/service-name": "app",
                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
               "addressType": "IPv4", "ports": [{"name": "ws", "port": port}],
               "endpoints": [{"addresses": ["127.0.0.1"]}]}),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
               "metadata": {"name": "cert", "namespace": ns},
               "stringData": {"tls.crt": chain, "tls.key": key}}),
    ]
}

fn route(ns: &str, name: &str, hosts: Value, path: &str) -> Value {
    json!({"apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketRoute",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"hostnames": hosts, "tls": {"secretName": "cert"},
                    "rules": [{"path": {"type": "PathPrefix", "value": path},
                               "backend": {"service": {"name": "app", "port": 3000}}}]}})
}

fn refused_with(api: &KubeApi, ns: &str, name: &str, reason: &str) -> bool {
    let path = format!("/apis/wsgate.dev/v1alpha1/namespaces/{ns}/websocketroutes/{name}/status");
    api.writes()
        .iter()
        .rev()
        .filter(|w| w.path == path)
        .take(1)
        .any(|w| {
            w.body["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Accepted" && c["status"] == "False" && c["reason"] == reason)
        })
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn namespaces_cannot_steal_paths_or_certificates() {
    let ca_a = Ca::root("team-a root");
    let ca_b = Ca::root("team-b root");
    let leaf_a = ca_a.leaf(&[SHARED], Alg::Ecdsa);
    let leaf_b = ca_b.leaf(&[SHARED, "other.example.test"], Alg::Ecdsa);
    let a = Backend::start("a").await;
    let b = Backend::start("b").await;
    let api = KubeApi::start().await;
    for o in objects("team-a", a.addr.port(), &leaf_a.chain_pem, &leaf_a.key_pem) {
        api.create(o);
    }
    for o in objects("team-b", b.addr.port(), &leaf_b.chain_pem, &leaf_b.key_pem) {
        api.create(o);
    }
    api.create(route("team-a", "owner", json!([SHARED]), "/a"));
    // Created later: each tries to get team-a's traffic or certificate.
    api.create(route("team-b", "thief", json!([SHARED]), "/b"));
    api.create(route("team-b", "catch-all", json!([]), "/"));
    api.create(route("team-b", "wildcard", json!(["*.example.test"]), "/"));
    let ctl = Controller::start_with(
        &api.url(),
        "wsgate-test-0",
        &["--catch-all-namespace", "edge"],
    );
    let served = eventually(STEP * 3, || async {
        get(ctl.http, SHARED, "/a", &[])
            .await
            .is_ok_and(|(s, _, _)| s == 200)
    })
    .await;
    assert!(served, "the owner's route is not served: {}", ctl.log());

    for (host, path) in [
        (SHARED, "/b"),
        (SHARED, "/"),
        ("unknown.example.test", "/"),
        ("x.example.test", "/"),
    ] {
        let (status, _, _) = get(ctl.http, host, path, &[]).await.expect("get");
        assert_eq!(
            status, 404,
            "{host}{path} reached another namespace's route"
        );
    }
    assert!(b.requests() == 0, "team-b's backend received traffic");
    // TLS for the owned host is team-a's certificate; team-b's is never presented.
    let trust_a = client_config(&ca_a.pem, Versions::Both);
    let trust_b = client_config(&ca_b.pem, Versions::Both);
    assert!(wss_connect(ctl.https, SHARED, "/a", trust_a).await.is_ok());
    assert!(
        wss_connect(ctl.https, SHARED, "/a", trust_b.clone())
            .await
            .is_err()
    );
    // No default certificate from a namespace that may not supply one.
    assert!(
        wss_connect(ctl.https, "other.example.test", "/", trust_b)
            .await
            .is_err()
    );

    let reported = eventually(STEP * 2, || async {
        refused_with(&api, "team-b", "thief", "HostnameConflict")
            && refused_with(&api, "team-b", "catch-all", "NamespaceNotAllowed")
            && refused_with(&api, "team-b", "wildcard", "NamespaceNotAllowed")
    })
    .await;
    assert!(reported, "refusals not in status: {:?}", api.writes());
    // The admin page lists the refused objects with their reasons too.
    let page_url = format!("http://{}/", ctl.admin);
    let listed = eventually(STEP, || async {
        let page = http_get(&page_url, None)
            .await
            .map(|(_, b)| b)
            .unwrap_or_default();
        [
            "WebSocketRoute team-b/thief",
            "HostnameConflict",
            "WebSocketRoute team-b/wildcard",
            "NamespaceNotAllowed",
        ]
        .iter()
        .all(|t| page.contains(t))
    })
    .await;
    assert!(listed, "the admin page does not list the refused routes");
    // Tables the controller publishes count as applied loads, like a routes file's.
    let applied = ctl
        .metric("wsgate_route_table_reloads_total{result=\"applied\"}")
        .await;
    assert!(applied.is_some_and(|v| v >= 1.0), "{applied:?}");
    controller_support::rbac::record("controller-tenancy", &api);
}
