//! The ingress-nginx annotations that guard who may come in, enforced by the real data plane
//! behind the real controller: source allow and deny lists (before anything else), request
//! rates, body size, the sign-in redirect of `auth-signin`, the redirect of `ws://` upgrades
//! by `force-ssl-redirect`, and the affinity cookie's `Path` and `Secure`.

#[path = "controller_support/mod.rs"]
mod controller_support;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use controller_support::http::{STEP, get, request_from};
use controller_support::objects::{NS, endpoint_slice, service};
use controller_support::{Controller, eventually};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wsgate_tests::backend::Backend;
use wsgate_tests::kube_standin::KubeApi;

const N: &str = "nginx.ingress.kubernetes.io/";

fn ingress(name: &str, host: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {"ingressClassName": "wsgate", "rules": [{"host": host, "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "echo", "port": {"number": 3000}}}}
        ]}}]},
    })
}

/// Always 401: the client has no session.
async fn deny(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    Ok(resp)
}

async fn denying_auth() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind auth");
    let addr = listener.local_addr().expect("auth address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(deny))
                    .await;
            });
        }
    });
    addr
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn request(host: &str, method: &str, body: &'static [u8], upgrade: bool) -> Request<Full<Bytes>> {
    let mut req = Request::builder()
        .method(method)
        .uri("/")
        .header("host", host);
    if upgrade {
        req = req
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    }
    if !body.is_empty() {
        req = req.header("content-length", body.len());
    }
    req.body(Full::new(Bytes::from_static(body)))
        .expect("request")
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 300)]
async fn guarding_annotations_are_enforced_by_the_data_plane() {
    let backend = Backend::start("one").await;
    let auth = denying_auth().await;
    let api = KubeApi::start().await;
    api.create(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "wsgate"}, "spec": {"controller": "wsgate.dev/ingress-controller"}}),
    );
    api.create(service("echo"));
    api.create(endpoint_slice("echo", backend.addr.port()));
    api.create(ingress(
        "sources",
        "sources.test",
        json!({
            format!("{N}whitelist-source-range"): "127.0.0.0/24",
            format!("{N}denylist-source-range"): "127.0.0.3/32",
        }),
    ));
    api.create(ingress(
        "rates",
        "rates.test",
        json!({
            format!("{N}limit-rpm"): "2",
            format!("{N}limit-burst-multiplier"): "1",
            format!("{N}proxy-body-size"): "16",
        }),
    ));
    api.create(ingress(
        "signin",
        "signin.test",
        json!({
            format!("{N}auth-url"): format!("http://{auth}/check"),
            format!("{N}auth-signin"): "https://login.example.test/start",
            format!("{N}force-ssl-redirect"): "false",
        }),
    ));
    api.create(ingress(
        "redirect",
        "redirect.test",
        json!({
            format!("{N}force-ssl-redirect"): "true",
            format!("{N}affinity"): "cookie",
            format!("{N}session-cookie-path"): "/chat",
            format!("{N}session-cookie-secure"): "true",
        }),
    ));
    api.create(ingress(
        "cookie",
        "cookie.test",
        json!({
            format!("{N}affinity"): "cookie",
            format!("{N}session-cookie-path"): "/chat",
            format!("{N}session-cookie-secure"): "true",
        }),
    ));
    let ctl = Controller::start(&api);
    let http = ctl.http;
    let ready = eventually(STEP * 3, || async {
        get(http, "cookie.test", "/", &[])
            .await
            .is_ok_and(|(s, _, _)| s == 200)
    })
    .await;
    assert!(ready, "never served: {}", ctl.log());
    let status = |from: &'static str, req: Request<Full<Bytes>>| async move {
        request_from(ip(from), http, req).await.expect("request").0
    };

    // Source ranges: the deny list wins, outside the allow list is refused, before anything.
    assert_eq!(
        status("127.0.0.2", request("sources.test", "GET", b"", false)).await,
        200
    );
    assert_eq!(
        status("127.0.0.3", request("sources.test", "GET", b"", false)).await,
        403
    );
    assert_eq!(
        status("127.0.0.3", request("sources.test", "GET", b"", true)).await,
        403
    );

    // Body size: over 16 bytes is 413 and never reaches the backend.
    let before = backend.requests();
    assert_eq!(
        status(
            "127.0.0.4",
            request("rates.test", "POST", b"0123456789abcdefXYZ", false)
        )
        .await,
        413
    );
    assert_eq!(backend.requests(), before);
    // limit-rpm 2 (burst 2), counted before the body is looked at as nginx does: the refused
    // POST took one token, this one the last; then that address is refused, others are not.
    assert_eq!(
        status("127.0.0.4", request("rates.test", "POST", b"small", false)).await,
        200
    );
    assert_eq!(
        status("127.0.0.4", request("rates.test", "GET", b"", false)).await,
        429
    );
    assert_eq!(
        status("127.0.0.5", request("rates.test", "GET", b"", false)).await,
        200
    );

    // auth-signin: a refused page request is sent to the sign-in page with where it came from.
    let (code, headers) = request_from(
        ip("127.0.0.1"),
        http,
        request("signin.test", "GET", b"", false),
    )
    .await
    .expect("signin");
    assert_eq!(code, 302);
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        location,
        "https://login.example.test/start?rd=http%3A%2F%2Fsignin.test%2F"
    );
    // A WebSocket cannot follow a redirect: it gets the 401.
    assert_eq!(
        status("127.0.0.1", request("signin.test", "GET", b"", true)).await,
        401
    );

    // force-ssl-redirect: plain pages and ws:// upgrades alike get the 308.
    for upgrade in [false, true] {
        let (code, headers) = request_from(
            ip("127.0.0.1"),
            http,
            request("redirect.test", "GET", b"", upgrade),
        )
        .await
        .expect("redirect");
        assert_eq!(code, 308, "upgrade: {upgrade}");
        assert_eq!(
            headers.get("location").map(|v| v.as_bytes()),
            Some(&b"https://redirect.test/"[..])
        );
    }

    // The affinity cookie carries the Path and Secure the Ingress asked for.
    let (_, headers, _) = get(http, "cookie.test", "/", &[]).await.expect("cookie");
    let cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        cookie.contains("; Path=/chat;") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    controller_support::rbac::record("controller-guarded", &api);
}
