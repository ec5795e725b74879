//! The Gateway API served by the real controller against the API stand-in: a GatewayClass of
//! wsgate's controller, a Gateway with an HTTPS and an HTTP listener, and HTTPRoutes. A wss
//! echo goes through the HTTPS listener; status is written on every object as the Gateway API
//! spec says, refusals included (an unsupported regular-expression path, a backend in
//! another namespace without a ReferenceGrant); the route of the HTTPS listener alone is not
//! served in clear.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use controller_support::objects::{NS, endpoint_slice, service, tls_secret};
use controller_support::{Controller, eventually};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::certs::{Alg, Ca};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::raw::{http_status, status_of, upgrade};
use wsgate_tests::tls::{Versions, client_config, wss_connect};

const CHAT: &str = "chat.gateway.test";
const GW: &str = "gateway.networking.k8s.io/v1";

fn http_route(name: &str, section: Option<&str>, rule: Value) -> Value {
    let mut parent = json!({"name": "edge"});
    if let Some(s) = section {
        parent["sectionName"] = json!(s);
    }
    json!({
        "apiVersion": GW, "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"parentRefs": [parent], "hostnames": [CHAT], "rules": [rule]},
    })
}

/// The condition `type_` of a status `conditions` list: (status, reason, observedGeneration).
fn condition(conditions: &Value, type_: &str) -> Option<(String, String, i64)> {
    let c = conditions.as_array()?.iter().find(|c| c["type"] == type_)?;
    Some((
        c["status"].as_str()?.to_string(),
        c["reason"].as_str()?.to_string(),
        c["observedGeneration"].as_i64()?,
    ))
}

fn route_parent(api: &KubeApi, name: &str) -> Value {
    api.get(GW, "HTTPRoute", NS, name)
        .map(|r| r["status"]["parents"][0].clone())
        .unwrap_or(Value::Null)
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 240)]
async fn a_gateway_and_httproute_serve_wss_and_get_the_spec_status() {
    let root = Ca::root("wsgate gateway test root");
    let leaf = root.leaf(&[CHAT], Alg::Ecdsa);
    let echo = Backend::start("echo").await;
    let api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", echo.addr.port()));
    api.create(tls_secret("chat-tls", &leaf.chain_pem, &leaf.key_pem));
    api.create(
        json!({"apiVersion": GW, "kind": "GatewayClass", "metadata": {"name": "wsgate"},
        "spec": {"controllerName": "wsgate.dev/gateway-controller"}}),
    );
    api.create(json!({"apiVersion": GW, "kind": "Gateway",
    "metadata": {"name": "edge", "namespace": NS},
    "spec": {"gatewayClassName": "wsgate", "listeners": [
        {"name": "https", "port": 443, "protocol": "HTTPS", "hostname": CHAT,
         "tls": {"mode": "Terminate", "certificateRefs": [{"name": "chat-tls"}]}},
        {"name": "http", "port": 80, "protocol": "HTTP"},
    ]}}));
    let backend = json!([{"name": "echo", "port": 3000}]);
    api.create(http_route(
        "chat",
        Some("https"),
        json!({"backendRefs": backend}),
    ));
    api.create(http_route(
        "regex",
        Some("http"),
        json!({"matches": [{"path": {"type": "RegularExpression", "value": "/r.*"}}], "backendRefs": backend}),
    ));
    api.create(http_route(
        "elsewhere",
        Some("http"),
        json!({"matches": [{"path": {"type": "PathPrefix", "value": "/elsewhere"}}],
               "backendRefs": [{"name": "echo", "namespace": "other", "port": 3000}]}),
    ));

    let flags = ["--gateway-api", "--publish-status-address", "203.0.113.10"];
    let ctl = Controller::start_with(&api.url(), "wsgate-test-0", &flags);
    let tls = client_config(&root.pem, Versions::Both);
    let served = eventually(Duration::from_secs(30), || async {
        let Ok(mut ws) = wss_connect(ctl.https, CHAT, "/", tls.clone()).await else {
            return false;
        };
        let sent = ws.send(Message::text("hello gateway")).await.is_ok();
        let echoed = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
        sent && matches!(echoed, Ok(Some(Ok(Message::Text(t)))) if t.as_str() == "hello gateway")
    })
    .await;
    assert!(served, "the HTTPRoute never served wss: {}", ctl.log());
    // Attached to the HTTPS listener only, the route is not served in clear: ws:// gets the
    // 403 naming wss://, a plain request the 308 to https.
    let (_, head) = upgrade(ctl.http, "/", &[("Host", CHAT)]).await;
    assert_eq!(status_of(&head), 403, "ws:// in clear: {head}");
    let plain = format!("GET /page HTTP/1.1\r\nHost: {CHAT}\r\nConnection: close\r\n\r\n");
    assert_eq!(http_status(ctl.http, &plain).await, 308);
    // A route of the HTTP listener takes its path in clear (its backend is not permitted: 503),
    // not the redirect.
    let other = format!("GET /elsewhere HTTP/1.1\r\nHost: {CHAT}\r\nConnection: close\r\n\r\n");
    assert_eq!(http_status(ctl.http, &other).await, 503);

    // Status, as the spec says, once the leader has written it.
    let written = eventually(Duration::from_secs(30), || async {
        let gw = api.get(GW, "Gateway", NS, "edge").unwrap_or(Value::Null);
        gw["status"]["listeners"]
            .as_array()
            .is_some_and(|l| l.len() == 2)
            && ["chat", "regex", "elsewhere"]
                .iter()
                .all(|r| route_parent(&api, r)["conditions"].is_array())
    })
    .await;
    assert!(written, "status never written: {}", ctl.log());

    let class = api.get(GW, "GatewayClass", "", "wsgate").expect("class");
    let accepted = condition(&class["status"]["conditions"], "Accepted");
    assert_eq!(
        accepted.map(|c| (c.0, c.1)),
        Some(("True".into(), "Accepted".into()))
    );

    let gw = api.get(GW, "Gateway", NS, "edge").expect("gateway");
    let status = &gw["status"];
    let generation = gw["metadata"]["generation"].as_i64().expect("generation");
    assert_eq!(
        status["addresses"],
        json!([{"type": "IPAddress", "value": "203.0.113.10"}])
    );
    for type_ in ["Accepted", "Programmed"] {
        let c = condition(&status["conditions"], type_).expect(type_);
        assert_eq!(c, ("True".into(), type_.into(), generation), "{status}");
    }
    let listener = |name: &str| {
        status["listeners"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["name"] == name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(listener("https")["attachedRoutes"], 1, "{status}");
    assert_eq!(listener("http")["attachedRoutes"], 2, "{status}");
    assert_eq!(
        listener("https")["supportedKinds"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}])
    );
    let https = &listener("https")["conditions"];
    for (type_, want) in [
        ("Accepted", "True"),
        ("ResolvedRefs", "True"),
        ("Conflicted", "False"),
        ("Programmed", "True"),
    ] {
        let c = condition(https, type_).expect(type_);
        assert_eq!(c.0, want, "{type_}: {https}");
    }

    let chat = route_parent(&api, "chat");
    assert_eq!(chat["controllerName"], "wsgate.dev/gateway-controller");
    assert_eq!(
        chat["parentRef"],
        json!({"name": "edge", "sectionName": "https"})
    );
    for type_ in ["Accepted", "ResolvedRefs"] {
        let c = condition(&chat["conditions"], type_).expect(type_);
        assert_eq!(
            (c.0.as_str(), c.1.as_str(), c.2),
            ("True", type_, 1),
            "{chat}"
        );
    }
    let regex = condition(&route_parent(&api, "regex")["conditions"], "Accepted");
    assert_eq!(
        regex.map(|c| (c.0, c.1)),
        Some(("False".into(), "UnsupportedValue".into()))
    );
    let elsewhere = condition(
        &route_parent(&api, "elsewhere")["conditions"],
        "ResolvedRefs",
    );
    assert_eq!(
        elsewhere.map(|c| (c.0, c.1)),
        Some(("False".into(), "RefNotPermitted".into()))
    );

    // A new generation of the route is reported at that generation.
    let mut chat_route = api.get(GW, "HTTPRoute", NS, "chat").expect("route");
    chat_route["spec"]["rules"][0]["timeouts"] = json!({"request": "5s"});
    api.patch(json!({"apiVersion": GW, "kind": "HTTPRoute",
        "metadata": {"name": "chat", "namespace": NS},
        "spec": chat_route["spec"].clone()}));
    let bumped = eventually(Duration::from_secs(20), || async {
        condition(&route_parent(&api, "chat")["conditions"], "Accepted").is_some_and(|c| c.2 == 2)
    })
    .await;
    assert!(
        bumped,
        "observedGeneration did not follow: {}",
        route_parent(&api, "chat")
    );
    controller_support::rbac::record_gateway_api("controller-gateway", &api);
}
