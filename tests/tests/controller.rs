//! The real `wsgate controller` against the in-process Kubernetes API stand-in over HTTP:
//! routes declared as objects serve `wss://` traffic to real backends, endpoint changes move
//! new connections, status and Events explain a missing Secret, and traffic survives the API
//! going away while watches resume when it returns.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use controller_support::objects::{NS, endpoint_slice, route, service, tls_secret};
use controller_support::{Controller, eventually};
use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use serde_json::Value;
use support::certs::{Alg, Ca};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::kube_standin::{KubeApi, Write};
use wsgate_tests::tls::{Versions, Wss, client_config, wss_connect};

const CHAT: &str = "chat.example.test";
const LATE: &str = "late.example.test";

struct World {
    api: KubeApi,
    ctl: Controller,
    tls: Arc<ClientConfig>,
    one: Backend,
    two: Backend,
}

impl World {
    /// Opens `wss://{host}/` and asks the backend its name.
    async fn whoami(&self, host: &str) -> anyhow::Result<(Wss, String)> {
        let mut ws = wss_connect(self.ctl.https, host, "/", self.tls.clone()).await?;
        let name = ask(&mut ws, "whoami").await?;
        Ok((ws, name))
    }

    /// Waits up to 10 s for new connections to `host` to reach `backend`.
    async fn lands_on(&self, host: &str, backend: &str) -> bool {
        eventually(Duration::from_secs(10), || async {
            self.whoami(host)
                .await
                .is_ok_and(|(_, name)| name == backend)
        })
        .await
    }
}

/// Sends `text` and returns the reply.
async fn ask(ws: &mut Wss, text: &str) -> anyhow::Result<String> {
    tokio::time::timeout(Duration::from_secs(5), ws.send(Message::text(text))).await??;
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next()).await?;
    match reply {
        Some(Ok(Message::Text(t))) => Ok(t.to_string()),
        other => anyhow::bail!("unexpected reply {other:?}"),
    }
}

/// Objects first, then the controller while the API is unreachable (not ready), then the
/// API comes up and the controller becomes ready.
async fn world() -> World {
    let root = Ca::root("wsgate controller test root");
    let leaf = root.leaf(&[CHAT, LATE], Alg::Ecdsa);
    let one = Backend::start("one").await;
    let two = Backend::start("two").await;
    let mut api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", one.addr.port()));
    api.create(tls_secret("chat-tls", &leaf.chain_pem, &leaf.key_pem));
    api.create(tls_secret("late-tls", &leaf.chain_pem, &leaf.key_pem));
    let mut chat = route("chat", CHAT, "echo", "chat-tls");
    // Old connections stay on a removed endpoint for the whole test instead of being drained.
    chat["spec"]["drain"] = serde_json::json!({"period": "1h"});
    api.create(chat);
    api.stop().await;

    let ctl = Controller::start(&api);
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        let code = ctl.readyz().await;
        assert_eq!(code, 503, "ready before any watch synced: {}", ctl.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    api.start_again().await;
    let ready = eventually(Duration::from_secs(20), || async {
        ctl.readyz().await == 200
    })
    .await;
    assert!(ready, "never ready: {}", ctl.log());
    let tls = client_config(&root.pem, Versions::Both);
    World {
        api,
        ctl,
        tls,
        one,
        two,
    }
}

/// Status patches written for route `name`.
fn status_patches(writes: &[Write], name: &str) -> Vec<Value> {
    let path = format!("/apis/wsgate.dev/v1alpha1/namespaces/{NS}/websocketroutes/{name}/status");
    writes
        .iter()
        .filter(|w| w.method == "PATCH" && w.path == path)
        .inspect(|w| {
            assert!(
                w.content_type.starts_with("application/apply-patch"),
                "{w:?}"
            )
        })
        .map(|w| w.body.clone())
        .collect()
}

fn condition<'a>(patch: &'a Value, type_: &str) -> Option<&'a Value> {
    patch["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn controller_serves_declared_routes_and_explains_them() {
    let w = world().await;

    // A wss client echoes through wsgate to the EndpointSlice's backend.
    let (mut old, name) = w.whoami(CHAT).await.expect("wss through the controller");
    assert_eq!(name, "one");
    assert_eq!(ask(&mut old, "hello").await.expect("echo"), "hello");

    // The leader wrote its Lease and the route's conditions, all True.
    let ok = eventually(Duration::from_secs(10), || async {
        status_patches(&w.api.writes(), "chat")
            .last()
            .is_some_and(|p| {
                ["Accepted", "ResolvedRefs", "Programmed"]
                    .iter()
                    .all(|t| condition(p, t).is_some_and(|c| c["status"] == "True"))
            })
    })
    .await;
    assert!(ok, "no all-True status for chat: {:?}", w.api.writes());
    let lease = w
        .api
        .get("coordination.k8s.io/v1", "Lease", "wsgate", "wsgate-leader");
    let holder = lease.as_ref().map(|l| l["spec"]["holderIdentity"].clone());
    assert_eq!(holder, Some(Value::from("wsgate-test-0")));

    // The Service's endpoints move: new connections go to `two`, the old one stays on `one`.
    w.api.patch(endpoint_slice("echo", w.two.addr.port()));
    assert!(w.lands_on(CHAT, "two").await, "new connections never moved");
    assert_eq!(
        ask(&mut old, "whoami").await.expect("old connection"),
        "one"
    );

    api_restart(w, old).await;
}

/// The API goes away and comes back: traffic never stops, and a change made after the
/// restart takes effect because the watches resume from their resourceVersion.
async fn api_restart(mut w: World, mut old: Wss) {
    let before = w.api.requests().len();
    w.api.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        ask(&mut old, "still here").await.expect("old connection"),
        "still here"
    );
    let (_, name) = w
        .whoami(CHAT)
        .await
        .expect("new connection while the API is down");
    assert_eq!(name, "two");
    assert_eq!(
        w.ctl.readyz().await,
        200,
        "losing the API must not unready the proxy"
    );

    w.api.start_again().await;
    w.api.create(route("late", LATE, "echo", "late-tls"));
    assert!(
        w.lands_on(LATE, "two").await,
        "a route created after the restart never served: {}",
        w.ctl.log()
    );
    let after: Vec<String> = w.api.requests()[before..]
        .iter()
        .filter(|r| r.starts_with("GET /apis/wsgate.dev/v1alpha1/websocketroutes?"))
        .cloned()
        .collect();
    let resumed = after
        .iter()
        .any(|r| r.contains("watch=true") && r.contains("resourceVersion="));
    assert!(resumed, "no resumed watch of WebSocketRoutes: {after:?}");
    assert!(
        after.iter().all(|r| r.contains("watch=true")),
        "re-listed instead of resuming: {after:?}"
    );
    missing_secret(w, old).await;
}

/// Deleting a route's TLS Secret makes that route refuse (503) with ResolvedRefs=False,
/// reason SecretNotFound, and a Warning Event; other routes keep serving.
async fn missing_secret(w: World, mut old: Wss) {
    assert_eq!(
        w.ctl.get(CHAT, "/").await.0,
        200,
        "chat over plain HTTP before"
    );
    w.api.delete("v1", "Secret", NS, "chat-tls");
    let refused = eventually(Duration::from_secs(10), || async {
        w.ctl.get(CHAT, "/").await.0 == 503
    })
    .await;
    assert!(refused, "chat still served without its Secret");
    let (_, body) = w.ctl.get(CHAT, "/").await;
    assert!(
        !body.contains("chat-tls") && !body.contains(NS),
        "the 503 body shows an internal reason: {body}"
    );
    assert_eq!(
        w.ctl.get(LATE, "/").await.0,
        200,
        "another route stopped serving"
    );
    // A new table never touches an established connection.
    assert_eq!(
        ask(&mut old, "whoami")
            .await
            .expect("old connection after the Secret went"),
        "one"
    );

    let reported = eventually(Duration::from_secs(10), || async {
        status_patches(&w.api.writes(), "chat")
            .last()
            .and_then(|p| condition(p, "ResolvedRefs").cloned())
            .is_some_and(|c| c["status"] == "False" && c["reason"] == "SecretNotFound")
    })
    .await;
    assert!(
        reported,
        "no SecretNotFound condition: {:?}",
        status_patches(&w.api.writes(), "chat")
    );
    let event = eventually(Duration::from_secs(10), || async {
        w.api.writes().iter().any(|e| {
            e.method == "POST"
                && e.path == format!("/apis/events.k8s.io/v1/namespaces/{NS}/events")
                && e.body["reason"] == "SecretNotFound"
                && e.body["regarding"]["name"] == "chat"
                && e.body["type"] == "Warning"
        })
    })
    .await;
    assert!(event, "no SecretNotFound Event: {:?}", w.api.writes());
    assert!(
        w.api.unknown_paths().is_empty(),
        "unserved paths: {:?}",
        w.api.unknown_paths()
    );
    controller_support::rbac::record("controller-serves", &w.api);
    drop(w.one);
}

/// Changes made while the API was away, with its watch history compacted: resuming watches
/// get 410 Gone, re-list, and the controller catches up; the leader keeps renewing its Lease.
#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn watches_too_old_to_resume_re_list_and_catch_up() {
    let mut w = world().await;
    let (mut old, name) = w.whoami(CHAT).await.expect("wss through the controller");
    assert_eq!(name, "one");

    w.api.stop().await;
    w.api.patch(endpoint_slice("echo", w.two.addr.port()));
    w.api.compact();
    let before = w.api.requests().len();
    w.api.start_again().await;
    assert!(
        w.lands_on(CHAT, "two").await,
        "the change made while away never arrived"
    );
    assert_eq!(
        ask(&mut old, "whoami").await.expect("old connection"),
        "one"
    );
    let relisted = w.api.requests()[before..].iter().any(|r| {
        r.starts_with("GET /apis/discovery.k8s.io/v1/endpointslices?") && !r.contains("watch=true")
    });
    assert!(relisted, "EndpointSlices were not re-listed after 410 Gone");

    let lease = "/apis/coordination.k8s.io/v1/namespaces/wsgate/leases/wsgate-leader";
    let renewed = eventually(Duration::from_secs(15), || async {
        w.api
            .writes()
            .iter()
            .any(|x| x.method == "PUT" && x.path == lease)
    })
    .await;
    assert!(renewed, "the Lease was never renewed: {:?}", w.api.writes());
    let spec = w
        .api
        .get("coordination.k8s.io/v1", "Lease", "wsgate", "wsgate-leader");
    let spec = spec.map(|l| l["spec"].clone()).unwrap_or_default();
    assert_eq!(spec["holderIdentity"], "wsgate-test-0");
    assert_ne!(
        spec["renewTime"], spec["acquireTime"],
        "renewal kept the acquire time"
    );
    controller_support::rbac::record("controller-relist", &w.api);
}
