//! Two real `wsgate controller` replicas against the API stand-in, each through its own door:
//! both serve traffic, one leads; when the leader's API access is cut it stops acting as
//! leader before the other takes the Lease over, and the new leader writes status.

#[path = "controller_support/mod.rs"]
mod controller_support;

use std::time::{Duration, Instant};

use controller_support::objects::{NS, endpoint_slice, service};
use controller_support::{Controller, FAST_LEASE, eventually};
use serde_json::{Value, json};
use wsgate_tests::backend::Backend;
use wsgate_tests::kube_standin::KubeApi;

const LEASE: (&str, &str, &str, &str) =
    ("coordination.k8s.io/v1", "Lease", "wsgate", "wsgate-leader");

fn holder(api: &KubeApi) -> Option<String> {
    let lease = api.get(LEASE.0, LEASE.1, LEASE.2, LEASE.3)?;
    lease["spec"]["holderIdentity"].as_str().map(str::to_string)
}

fn plain_route(name: &str, host: &str) -> Value {
    json!({
        "apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketRoute",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"hostnames": [host], "rules": [{"backend": {"service": {"name": "echo", "port": 3000}}}]},
    })
}

fn status_written(api: &KubeApi, name: &str) -> bool {
    let path = format!("/apis/wsgate.dev/v1alpha1/namespaces/{NS}/websocketroutes/{name}/status");
    api.writes()
        .iter()
        .any(|w| w.method == "PATCH" && w.path == path)
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn one_leader_and_a_takeover_when_its_api_access_is_cut() {
    let backend = Backend::start("one").await;
    let mut api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", backend.addr.port()));
    api.create(plain_route("chat", "chat.example.test"));
    let door_b = api.open_door().await;
    let a = Controller::start_with(&api.url(), "wsgate-a", FAST_LEASE);
    let led = eventually(Duration::from_secs(20), || async {
        holder(&api).as_deref() == Some("wsgate-a")
    })
    .await;
    assert!(led, "replica a never took the Lease: {}", a.log());
    let b = Controller::start_with(&api.door_url(door_b), "wsgate-b", FAST_LEASE);
    for replica in [&a, &b] {
        let serves = eventually(Duration::from_secs(20), || async {
            replica.get("chat.example.test", "/").await.0 == 200
        })
        .await;
        assert!(serves, "a replica does not serve: {}", replica.log());
    }
    assert_eq!(b.metric("wsgate_controller_leader").await, Some(0.0));
    assert_eq!(a.metric("wsgate_controller_leader").await, Some(1.0));
    assert_eq!(
        holder(&api).as_deref(),
        Some("wsgate-a"),
        "b must not take a held Lease"
    );

    // Cut a off the API; b keeps its own door.
    api.close_door(0);
    let cut = Instant::now();
    let taken = eventually(Duration::from_secs(30), || async {
        holder(&api).as_deref() == Some("wsgate-b")
    })
    .await;
    let takeover = cut.elapsed();
    assert!(taken, "b never took over: {}", b.log());
    println!(
        "leader takeover: {:.1}s after the leader's API access was cut",
        takeover.as_secs_f64()
    );
    // a stopped acting as leader before b could take over: never two leaders.
    assert_eq!(
        a.metric("wsgate_controller_leader").await,
        Some(0.0),
        "the cut-off replica still acts as leader: {}",
        a.log()
    );
    assert!(a.log().contains("leadership changed"), "{}", a.log());
    assert_eq!(
        a.get("chat.example.test", "/").await.0,
        200,
        "a stopped serving"
    );

    // The new leader writes status.
    api.create(plain_route("late", "late.example.test"));
    let written = eventually(Duration::from_secs(20), || async {
        status_written(&api, "late")
    })
    .await;
    assert!(written, "the new leader wrote no status: {}", b.log());

    // a comes back and follows.
    api.reopen_door(0).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(holder(&api).as_deref(), Some("wsgate-b"));
    assert_eq!(a.metric("wsgate_controller_leader").await, Some(0.0));
    controller_support::rbac::record("controller-leader", &api);
}
