//! Sidecar mode: the routes file comes from a ConfigMap volume, which Kubernetes updates by
//! swapping a `..data` symlink to a new timestamped directory. wsgate must follow the swap
//! without a restart.

use std::os::unix::fs::symlink;
use std::path::Path;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{close_ws, next_data, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

/// Lays out `dir` like a ConfigMap volume holding `routes.yaml`, at version `tag`.
fn publish(dir: &Path, tag: &str, content: &str) {
    let versioned = dir.join(format!("..{tag}"));
    std::fs::create_dir_all(&versioned).expect("mkdir");
    std::fs::write(versioned.join("routes.yaml"), content).expect("write");
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    symlink(format!("..{tag}"), &tmp).expect("symlink");
    std::fs::rename(&tmp, dir.join("..data")).expect("swap ..data");
    let link = dir.join("routes.yaml");
    if std::fs::symlink_metadata(&link).is_err() {
        symlink("..data/routes.yaml", &link).expect("symlink routes.yaml");
    }
}

async fn whoami(url: &str) -> String {
    let mut ws = ws_connect(url).await.expect("connect");
    send_msg(&mut ws, Message::text("whoami")).await;
    let name = match next_data(&mut ws).await {
        Message::Text(t) => t.to_string(),
        other => panic!("unexpected {other:?}"),
    };
    close_ws(&mut ws).await;
    name
}

#[e2e]
async fn a_configmap_symlink_swap_reaches_the_running_proxy() {
    let first = Backend::start("first").await;
    let second = Backend::start("second").await;
    let volume = Scratch::new("configmap");
    publish(
        &volume.0,
        "2026_11_22_10_00_00.1",
        &routes("app", &[first.addr], ""),
    );
    let gw = Wsgate::launch_with(
        "",
        &[
            "--config",
            volume.path("routes.yaml").to_str().expect("utf-8 path"),
        ],
    )
    .await;
    gw.wait_ready().await;
    assert_eq!(whoami(&gw.ws_url("/")).await, "first");

    publish(
        &volume.0,
        "2026_11_22_10_05_00.2",
        &routes("app", &[second.addr], ""),
    );
    // The new table is applied once; from then on every new connection uses it.
    gw.wait_version(2.0).await;
    assert_eq!(whoami(&gw.ws_url("/")).await, "second");
    assert_eq!(gw.metric("wsgate_route_table_version").await, 2.0);
}
