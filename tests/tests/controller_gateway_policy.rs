//! A WebSocketPolicy attached to an HTTPRoute, served by the real controller against the API
//! stand-in: three real Node Socket.IO servers behind one Service, real socket.io-client
//! sessions that poll, upgrade and echo on the server that greeted them (SocketIO affinity
//! from the policy), a foreign Origin refused before it reaches a server, and the policy's
//! status per ancestor (Accepted, Conflicted, TargetNotFound) as policy attachment says.
//! Beside it, a query-parameter match compared percent-decoded leads to a backendRef of the
//! wrong kind, which answers 500 as the Gateway API asks.

#[path = "controller_support/mod.rs"]
mod controller_support;

use std::process::Command;
use std::time::Duration;

use controller_support::objects::{NS, service};
use controller_support::{Controller, eventually};
use serde_json::{Value, json};
use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::node::{SocketIoServer, node_dir, require_node_modules};
use wsgate_tests::process::output_within;
use wsgate_tests::raw::{http_status, status_of, upgrade};

const GW: &str = "gateway.networking.k8s.io/v1";
const POLICY: &str = "wsgate.dev/v1alpha1";
const SESSIONS: usize = 60;

/// One EndpointSlice of Service `sio` per server: each a ready endpoint 127.0.0.1:`port`.
fn slice(name: &str, port: u16) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"kubernetes.io/service-name": "sio",
                                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "ports": [{"name": "ws", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}],
    })
}

fn policy(name: &str, route: &str, fields: Value) -> Value {
    let mut spec = json!({"targetRefs": [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route}]});
    if let (Some(s), Some(f)) = (spec.as_object_mut(), fields.as_object()) {
        s.extend(f.clone());
    }
    json!({"apiVersion": POLICY, "kind": "WebSocketPolicy",
           "metadata": {"name": name, "namespace": NS}, "spec": spec})
}

/// (ancestor name, Accepted status, reason, observedGeneration) of each ancestor entry.
fn ancestors(api: &KubeApi, name: &str) -> Vec<(String, String, String, i64)> {
    let p = api
        .get(POLICY, "WebSocketPolicy", NS, name)
        .unwrap_or(Value::Null);
    let list = p["status"]["ancestors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|a| {
            let c = a["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Accepted")?;
            Some((
                a["ancestorRef"]["name"].as_str()?.to_string(),
                c["status"].as_str()?.to_string(),
                c["reason"].as_str()?.to_string(),
                c["observedGeneration"].as_i64()?,
            ))
        })
        .collect()
}

/// Runs `sio-affinity-client.js` (default transports, one source address per client);
/// returns its JSON summary.
async fn sio_sessions(url: String) -> Value {
    require_node_modules();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("node");
        cmd.arg(node_dir().join("sio-affinity-client.js"))
            .args([url.as_str(), &SESSIONS.to_string(), "--concurrency=20"])
            .current_dir(node_dir());
        output_within(&mut cmd, "sio-affinity-client.js", Duration::from_secs(120))
    })
    .await
    .expect("join");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary: {text}{}", String::from_utf8_lossy(&out.stderr)))
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn a_websocketpolicy_gives_socketio_affinity_and_refuses_foreign_origins() {
    let servers: Vec<SocketIoServer> = ["sio-a", "sio-b", "sio-c"]
        .iter()
        .map(|n| SocketIoServer::start(n))
        .collect();
    let api = KubeApi::start().await;
    api.create(service("sio"));
    for (i, s) in servers.iter().enumerate() {
        api.create(slice(&format!("sio-{i}"), s.port));
    }
    api.create(
        json!({"apiVersion": GW, "kind": "GatewayClass", "metadata": {"name": "wsgate"},
        "spec": {"controllerName": "wsgate.dev/gateway-controller"}}),
    );
    api.create(json!({"apiVersion": GW, "kind": "Gateway",
        "metadata": {"name": "edge", "namespace": NS},
        "spec": {"gatewayClassName": "wsgate",
                 "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}));
    api.create(json!({"apiVersion": GW, "kind": "HTTPRoute",
        "metadata": {"name": "chat", "namespace": NS},
        "spec": {"parentRefs": [{"name": "edge"}], "rules": [{"name": "socket",
            "matches": [{"path": {"type": "PathPrefix", "value": "/socket.io"}}],
            "backendRefs": [{"name": "sio", "port": 3000}]}]}}));
    // Requests for room "a b" (however the client encodes it) go to a rule whose backendRef is
    // of a kind other than Service: the spec's 500.
    api.create(json!({"apiVersion": GW, "kind": "HTTPRoute",
        "metadata": {"name": "rooms", "namespace": NS},
        "spec": {"parentRefs": [{"name": "edge"}], "rules": [{
            "matches": [{"path": {"type": "PathPrefix", "value": "/socket.io"},
                         "queryParams": [{"name": "room", "value": "a b"}]}],
            "backendRefs": [{"group": "example.com", "kind": "Bucket", "name": "b", "port": 1}]}]}}));
    api.create(policy(
        "chat-ws",
        "chat",
        json!({"sessionAffinity": {"type": "SocketIO"},
               "origins": {"allow": ["https://chat.example.com"], "allowMissingOrigin": true},
               "timeouts": {"idle": "10m"}}),
    ));

    let ctl = Controller::start_with(&api.url(), "wsgate-test-0", &["--gateway-api"]);
    let path = "/socket.io/?EIO=4&transport=websocket";
    let origin_head = |origin: &'static str| {
        let http = ctl.http;
        async move { upgrade(http, path, &[("Origin", origin)]).await.1 }
    };
    // The policy is in force once a foreign Origin is refused: 403 before any server sees it.
    let refused = eventually(Duration::from_secs(30), || async {
        status_of(&origin_head("https://evil.example").await) == 403
    })
    .await;
    assert!(refused, "a foreign Origin was never refused: {}", ctl.log());
    let allowed = status_of(&origin_head("https://chat.example.com").await);
    assert_eq!(allowed, 101, "the allowed Origin upgrades");
    let poll = |query: &str| {
        let request = format!(
            "GET /socket.io/?EIO=4&transport=polling{query} HTTP/1.1\r\nHost: chat.test\r\nConnection: close\r\n\r\n"
        );
        let http = ctl.http;
        async move { http_status(http, &request).await }
    };
    assert_eq!(
        poll("&room=a%20b").await,
        500,
        "percent-decoded match, wrong-kind backend"
    );
    assert_eq!(
        poll("&room=a+c").await,
        200,
        "another room reaches Socket.IO"
    );

    // Real Socket.IO sessions across three servers: each polls, upgrades and echoes on the
    // server that greeted it, which only SocketIO affinity makes hold.
    let run = sio_sessions(format!("http://{}", ctl.http)).await;
    assert_eq!(run["ok"], SESSIONS, "every session held its server: {run}");
    let per_server = run["perBackend"].as_object().cloned().unwrap_or_default();
    assert!(
        per_server.len() >= 2,
        "sessions spread over the servers: {run}"
    );
    let unknown: usize = servers.iter().map(SocketIoServer::unknown_sessions).sum();
    assert_eq!(
        unknown, 0,
        "no request reached a server that did not know its session"
    );

    // Status per ancestor; a newer policy on the same route is Conflicted, one on a missing
    // route TargetNotFound.
    api.create(policy("late", "chat", json!({"timeouts": {"idle": "1m"}})));
    api.create(policy(
        "nowhere",
        "missing",
        json!({"timeouts": {"idle": "1m"}}),
    ));
    let written = eventually(Duration::from_secs(30), || async {
        ["chat-ws", "late", "nowhere"]
            .iter()
            .all(|p| !ancestors(&api, p).is_empty())
    })
    .await;
    assert!(written, "policy status never written: {}", ctl.log());
    let one =
        |name, reason: &str, status: &str| vec![(name, status.to_string(), reason.to_string(), 1)];
    assert_eq!(
        ancestors(&api, "chat-ws"),
        one("edge".into(), "Accepted", "True")
    );
    assert_eq!(
        ancestors(&api, "late"),
        one("edge".into(), "Conflicted", "False")
    );
    assert_eq!(
        ancestors(&api, "nowhere"),
        one("missing".into(), "TargetNotFound", "False")
    );
    controller_support::rbac::record_gateway_api("controller-gateway-policy", &api);
}
