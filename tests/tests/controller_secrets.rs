//! The controller caches only the Secrets routes can use: with 10 000 unrelated Secrets
//! (Opaque and Helm release Secrets) in the API, its memory stays where it is with none, and
//! the Secret watches carry their selectors. A TLS Secret rotated through the API reaches new
//! handshakes.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use controller_support::objects::{NS, endpoint_slice, route, service, tls_secret};
use controller_support::{Controller, eventually};
use serde_json::json;
use support::certs::{Alg, Ca};
use wsgate_tests::backend::Backend;
use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::tls::{Versions, client_config, wss_connect};

const CHAT: &str = "chat.example.test";

/// 4 KiB of payload per unrelated Secret, about what a Helm release Secret holds compressed.
fn unrelated(i: usize) -> serde_json::Value {
    let blob = "x".repeat(4096);
    let (type_, ns) = if i.is_multiple_of(2) {
        ("Opaque", NS.to_string())
    } else {
        ("helm.sh/release.v1", format!("team-{}", i % 50))
    };
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": type_,
        "metadata": {"name": format!("unrelated-{i}"), "namespace": ns, "labels": {"owner": "helm"}},
        "stringData": {"release": blob},
    })
}

/// RSS of a ready controller serving one route, with `extra` unrelated Secrets in the API.
async fn rss_with(extra: usize) -> u64 {
    let root = Ca::root("wsgate secrets test root");
    let leaf = root.leaf(&[CHAT], Alg::Ecdsa);
    let backend = Backend::start("one").await;
    let api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", backend.addr.port()));
    api.create(tls_secret("chat-tls", &leaf.chain_pem, &leaf.key_pem));
    api.create(route("chat", CHAT, "echo", "chat-tls"));
    for i in 0..extra {
        api.create(unrelated(i));
    }
    let ctl = Controller::start(&api);
    let ready = eventually(Duration::from_secs(60), || async {
        ctl.readyz().await == 200
    })
    .await;
    assert!(ready, "never ready: {}", ctl.log());
    let tls = client_config(&root.pem, Versions::Both);
    let served = eventually(Duration::from_secs(20), || async {
        wss_connect(ctl.https, CHAT, "/", tls.clone()).await.is_ok()
    })
    .await;
    assert!(served, "no wss through the controller: {}", ctl.log());
    let secret_watches: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /api/v1/secrets?"))
        .collect();
    assert!(
        secret_watches
            .iter()
            .all(|r| r.contains("fieldSelector=") || r.contains("labelSelector=")),
        "an unfiltered Secret request: {secret_watches:?}"
    );
    // Let the watches settle, then read the memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    ctl.rss_kib()
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn m7_ten_thousand_unrelated_secrets_do_not_grow_memory() {
    let none = rss_with(0).await;
    let many = rss_with(10_000).await;
    println!("controller RSS: {none} KiB with 0 unrelated Secrets, {many} KiB with 10000");
    // Caching them would cost well over 40 MiB (10 000 x 4 KiB of data alone).
    assert!(
        many < none + 16 * 1024,
        "RSS grew from {none} KiB to {many} KiB with unrelated Secrets"
    );
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn a_tls_secret_rotated_through_the_api_reaches_new_handshakes() {
    let old_root = Ca::root("wsgate rotation old root");
    let new_root = Ca::root("wsgate rotation new root");
    let old_leaf = old_root.leaf(&[CHAT], Alg::Ecdsa);
    let new_leaf = new_root.leaf(&[CHAT], Alg::Ecdsa);
    let backend = Backend::start("one").await;
    let api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", backend.addr.port()));
    api.create(tls_secret(
        "chat-tls",
        &old_leaf.chain_pem,
        &old_leaf.key_pem,
    ));
    api.create(route("chat", CHAT, "echo", "chat-tls"));
    let ctl = Controller::start(&api);
    let old_tls = client_config(&old_root.pem, Versions::Both);
    let new_tls = client_config(&new_root.pem, Versions::Both);
    let first = eventually(Duration::from_secs(30), || async {
        wss_connect(ctl.https, CHAT, "/", old_tls.clone())
            .await
            .is_ok()
    })
    .await;
    assert!(
        first,
        "never served with the first certificate: {}",
        ctl.log()
    );
    api.patch(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "chat-tls", "namespace": NS},
        "stringData": {"tls.crt": new_leaf.chain_pem, "tls.key": new_leaf.key_pem},
    }));
    let rotated = eventually(Duration::from_secs(20), || async {
        wss_connect(ctl.https, CHAT, "/", new_tls.clone())
            .await
            .is_ok()
    })
    .await;
    assert!(
        rotated,
        "the rotated certificate never reached new handshakes: {}",
        ctl.log()
    );
    drop(old_tls);
    // A fresh client (no session to resume) that trusts only the old root is refused.
    let fresh_old = client_config(&old_root.pem, Versions::Both);
    assert!(
        wss_connect(ctl.https, CHAT, "/", fresh_old).await.is_err(),
        "the old certificate is still served"
    );
    controller_support::rbac::record("controller-rotation", &api);
}
