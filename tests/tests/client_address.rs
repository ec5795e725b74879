//! L10: what follows the client address. Behind a trusted proxy, `ClientIP` affinity keys on
//! the client the proxy names, not on the proxy.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::http_request;
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Wsgate, routes};

/// The backend that answered a GET sent for client `xff` (through the trusted proxy).
async fn backend_for(gw: &Wsgate, xff: &str) -> String {
    let req = Request::get("/whoami")
        .header("host", "chat.test")
        .header("x-forwarded-for", xff)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, body, _) = http_request(&gw.http.to_string(), req).await.expect("GET");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("the echo's JSON");
    json["backend"].as_str().expect("backend name").to_string()
}

#[e2e]
async fn l10_client_ip_affinity_follows_the_client_a_trusted_proxy_names() {
    let a = Backend::start("a").await;
    let b = Backend::start("b").await;
    let config = "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {name: proxy}\nspec:\n  trustedProxies: [\"127.0.0.0/8\"]\n---\n";
    let route = routes(
        "chat",
        &[a.addr, b.addr],
        "  sessionAffinity: {type: ClientIP}\n",
    );
    let gw = Wsgate::launch(&format!("{config}{route}")).await;
    gw.wait_ready().await;
    // Every request comes from 127.0.0.1, the trusted proxy; the clients behind it differ.
    let mut by_client = HashMap::new();
    for i in 1..=16 {
        let client = format!("203.0.113.{i}");
        by_client.insert(client.clone(), backend_for(&gw, &client).await);
    }
    let used: HashSet<&String> = by_client.values().collect();
    assert_eq!(
        used.len(),
        2,
        "16 clients behind one proxy use both pods: {by_client:?}"
    );
    for (client, pod) in &by_client {
        assert_eq!(
            &backend_for(&gw, client).await,
            pod,
            "{client} sticks to its pod"
        );
    }
}
