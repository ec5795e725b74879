//! An Ingress written for ingress-nginx, served by the real controller against the API
//! stand-in: echo through it, cookie affinity, the per-address connection limit, `auth-url`
//! enforced by a real auth service, and nginx's idle semantics (pings keep a connection
//! alive). An Ingress asking for a protection wsgate cannot give is refused and gets no
//! traffic.

#[path = "controller_support/mod.rs"]
mod controller_support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use controller_support::http::{STEP, ask, get, refused_status, ws};
use controller_support::objects::{NS, service};
use controller_support::{Controller, eventually};
use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::kube_standin::KubeApi;

const HOST: &str = "realtime.example.test";
const LOCKED: &str = "locked.example.test";
const GOOD: (&str, &str) = ("cookie", "session=good");

/// Admits `session=good` with `X-User: alice`; anything else is 401.
async fn auth(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let cookie = req
        .headers()
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut resp = Response::new(Full::new(Bytes::new()));
    if cookie.contains("session=good") {
        resp.headers_mut()
            .insert("x-user", "alice".parse().expect("header"));
    } else {
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
    }
    Ok(resp)
}

async fn auth_service() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind auth");
    let addr = listener.local_addr().expect("auth address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(auth))
                    .await;
            });
        }
    });
    addr
}

fn ingress(name: &str, host: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {"ingressClassName": "wsgate", "rules": [{"host": host, "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "echo", "port": {"number": 3000}}}}
        ]}}]},
    })
}

fn two_endpoint_slice(port: u16) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "echo-abc", "namespace": NS, "labels": {
            "kubernetes.io/service-name": "echo",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "ports": [{"name": "ws", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["127.0.0.1"]}, {"addresses": ["127.0.0.2"]}],
    })
}

struct World {
    api: KubeApi,
    ctl: Controller,
    _backends: (Backend, Backend),
}

async fn world() -> World {
    // Two endpoints on one port: 127.0.0.1 and 127.0.0.2 (both loopback).
    let listener_one = TcpListener::bind("127.0.0.1:0").await.expect("bind one");
    let port = listener_one.local_addr().expect("addr").port();
    let listener_two = TcpListener::bind(("127.0.0.2", port))
        .await
        .expect("bind two");
    let backends = (
        Backend::serve(listener_one, "one"),
        Backend::serve(listener_two, "two"),
    );
    let auth = auth_service().await;
    let api = KubeApi::start().await;
    api.create(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "wsgate"}, "spec": {"controller": "wsgate.dev/ingress-controller"}}),
    );
    api.create(service("echo"));
    api.create(two_endpoint_slice(port));
    // wsgate's own Service, whose load-balancer address goes into Ingress status.
    api.create(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "wsgate", "namespace": NS},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.20", "ports": [{"name": "http", "port": 80}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}));
    let n = "nginx.ingress.kubernetes.io/";
    api.create(ingress(
        "realtime",
        HOST,
        json!({
            format!("{n}proxy-read-timeout"): "2",
            format!("{n}affinity"): "cookie",
            format!("{n}session-cookie-name"): "srv",
            format!("{n}limit-connections"): "2",
            format!("{n}auth-url"): format!("http://{auth}/check"),
            format!("{n}auth-response-headers"): "X-User",
            format!("{n}proxy-buffering"): "off",
        }),
    ));
    api.create(ingress(
        "locked",
        LOCKED,
        json!({
            format!("{n}auth-type"): "basic",
            format!("{n}auth-secret"): "htpasswd",
        }),
    ));
    let publish = format!("{NS}/wsgate");
    let flags = [
        "--publish-service",
        publish.as_str(),
        "--event-refresh",
        "1s",
    ];
    let ctl = Controller::start_with(&api.url(), "wsgate-test-0", &flags);
    let ready = eventually(STEP * 3, || async {
        get(ctl.http, HOST, "/", &[GOOD])
            .await
            .is_ok_and(|(s, _, _)| s == 200)
    })
    .await;
    assert!(ready, "the Ingress was never served: {}", ctl.log());
    World {
        api,
        ctl,
        _backends: backends,
    }
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn an_ingress_nginx_ingress_keeps_its_meaning() {
    let w = world().await;
    let http = w.ctl.http;

    // auth-url: no session, no entry, for pages and WebSockets alike.
    let (status, _, _) = get(http, HOST, "/", &[]).await.expect("get");
    assert_eq!(status, 401, "served without the auth service's consent");
    assert_eq!(refused_status(&ws(http, HOST, "/", &[]).await), Some(401));

    // affinity: cookie names an endpoint; every connection with it lands there.
    let (_, headers, _) = get(http, HOST, "/", &[GOOD]).await.expect("get");
    let set_cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pair = set_cookie.split(';').next().unwrap_or("");
    assert!(pair.starts_with("srv="), "no affinity cookie: {headers:?}");
    let cookie = format!("session=good; {pair}");
    // Held open together: without the cookie, least connections would alternate them.
    let mut held = Vec::new();
    let mut landed = Vec::new();
    for _ in 0..2 {
        let mut c = ws(http, HOST, "/", &[("cookie", &cookie)])
            .await
            .expect("ws with cookie");
        landed.push(ask(&mut c, "whoami").await.expect("whoami"));
        held.push(c);
    }
    assert_eq!(
        landed[0], landed[1],
        "the cookie did not pin the endpoint: {landed:?}"
    );
    drop(held);

    // limit-connections: 2 per client address; a third gets 429, and a freed slot is reusable.
    // The two connections above are released when their close is processed.
    let deadline = std::time::Instant::now() + STEP;
    let mut a = loop {
        match ws(http, HOST, "/", &[GOOD]).await {
            Ok(c) => break c,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("first connection: {e}"),
        }
    };
    let _b = ws(http, HOST, "/", &[GOOD]).await.expect("second");
    assert_eq!(
        refused_status(&ws(http, HOST, "/", &[GOOD]).await),
        Some(429)
    );
    wsgate_tests::client::close_ws(&mut a).await;
    let freed = eventually(STEP, || async {
        ws(http, HOST, "/", &[GOOD]).await.is_ok()
    })
    .await;
    assert!(freed, "a closed connection still counts");

    // The published address reaches the Ingress's status.
    let published = eventually(STEP * 2, || async {
        w.api
            .get("networking.k8s.io/v1", "Ingress", NS, "realtime")
            .is_some_and(|i| i["status"]["loadBalancer"]["ingress"][0]["ip"] == "203.0.113.10")
    })
    .await;
    assert!(
        published,
        "no address in the Ingress status: {}",
        w.ctl.log()
    );
    controller_support::rbac::record("controller-ingress", &w.api);
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn pings_keep_a_connection_alive_like_nginx_and_silence_ends_it() {
    let w = world().await;
    let mut c = ws(w.ctl.http, HOST, "/", &[GOOD]).await.expect("ws");
    // proxy-read-timeout is 2s: pings every 500ms for 4s keep it open.
    for _ in 0..8 {
        wsgate_tests::client::send_msg(&mut c, Message::Ping(Bytes::from_static(b"hi"))).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        ask(&mut c, "still here").await.expect("alive after pings"),
        "still here"
    );
    // Then silence: wsgate closes it as idle with 1001.
    let closed = tokio::time::timeout(STEP, async {
        loop {
            match c.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("never closed while idle");
    assert_eq!(closed, Some(1001));
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn an_ingress_asking_for_an_unsupported_protection_is_refused() {
    let w = world().await;
    let (status, _, _) = get(w.ctl.http, LOCKED, "/", &[GOOD]).await.expect("get");
    assert_eq!(status, 404, "served without its basic auth");
    assert!(refused_status(&ws(w.ctl.http, LOCKED, "/", &[GOOD]).await).is_some_and(|s| s == 404));
    let event = eventually(STEP * 2, || async {
        w.api.writes().iter().any(|e| {
            e.method == "POST"
                && e.path.ends_with("/events")
                && e.body["reason"] == "UnsupportedAnnotation"
                && e.body["regarding"]["name"] == "locked"
                && e.body["note"]
                    .as_str()
                    .is_some_and(|n| n.contains("auth-type"))
        })
    })
    .await;
    assert!(
        event,
        "no UnsupportedAnnotation Event naming auth-type: {:?}",
        w.api.writes()
    );
    // A refusal that still holds is reported again (here every second).
    let again = eventually(STEP * 2, || async {
        w.api.writes().iter().any(|e| {
            e.method == "PATCH"
                && e.path.contains("/events/")
                && e.body["series"]["count"].as_i64() >= Some(2)
        })
    })
    .await;
    assert!(
        again,
        "the refusal was not reported again: {:?}",
        w.api.writes()
    );
    controller_support::rbac::record("controller-refused-ingress", &w.api);
}
