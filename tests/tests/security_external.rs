//! External authorization: a real HTTP auth service admits, denies, or is too slow.

mod security_support;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use security_support::*;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Wsgate, routes};

/// Admits `session=good` (with `X-User: alice`), denies `session=bad`; on `session=slow` it
/// waits until `release` is notified and then admits.
async fn auth_service(
    req: Request<Incoming>,
    release: Arc<Notify>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let cookie = req
        .headers()
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let uri = req
        .headers()
        .get("x-original-uri")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut resp = Response::new(Full::new(Bytes::new()));
    if cookie.contains("session=good") && uri.starts_with("/chat") {
        resp.headers_mut()
            .insert("x-user", "alice".parse().expect("hv"));
    } else if cookie.contains("session=slow") {
        // Admits, but only after the test has seen wsgate's answer: a 503 can then only come
        // from wsgate giving up on the auth service.
        release.notified().await;
    } else {
        *resp.status_mut() = http::StatusCode::UNAUTHORIZED;
        *resp.body_mut() = Full::new(Bytes::from_static(b"please log in\n"));
    }
    Ok(resp)
}

#[e2e]
async fn external_auth_admits_denies_and_fails_closed_on_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let auth_addr = listener.local_addr().expect("addr");
    let release = Arc::new(Notify::new());
    let service_release = release.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let release = service_release.clone();
            let svc = service_fn(move |req| auth_service(req, release.clone()));
            tokio::spawn(
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc),
            );
        }
    });
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        &format!(
            "  auth:\n    external:\n      url: http://{auth_addr}/verify\n      responseHeaders: [X-User]\n      timeout: 500ms\n"
        ),
    ))
    .await;
    gw.wait_ready().await;
    let url = gw.ws_url("/chat");
    let (mut ws, _) = ws_with(&url, &[("Cookie", "session=good")])
        .await
        .expect("admitted");
    echo(&mut ws, "hi").await;
    assert_eq!(
        last_handshake(&backend).1["x-user"],
        "alice",
        "the auth answer's header goes upstream"
    );

    let (status, body) = refused(&url, &[("Cookie", "session=bad")]).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "please log in\n"),
        "the denial is passed back"
    );
    let started = Instant::now();
    let (status, _) = refused(&url, &[("Cookie", "session=slow")]).await;
    release.notify_waiters();
    assert_eq!(status, 503, "a slow auth service fails closed");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "wsgate waited the route's 500ms before giving up, not {:?}",
        started.elapsed()
    );
    assert_eq!(
        gw.metric(
            "wsgate_auth_refusals_total{namespace=\"default\",reason=\"external_unavailable\""
        )
        .await,
        1.0
    );
    assert_eq!(backend.handshakes(), 1);
}

#[e2e]
async fn l3_a_ticket_refused_by_external_auth_is_not_used_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let auth_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let svc = service_fn(move |req| auth_service(req, Arc::new(Notify::new())));
            tokio::spawn(
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc),
            );
        }
    });
    let dir = wsgate_tests::wsgate::Scratch::new("l3");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        &format!(
            "  auth:\n    ticket:\n      keyFile: {key}\n    external:\n      url: http://{auth_addr}/verify\n      timeout: 5s\n"
        ),
    ))
    .await;
    gw.wait_ready().await;
    let claims = serde_json::json!({"sub": "u1", "jti": jti(), "exp": now() + 60});
    let token = mint("HS256", &key, claims, None);
    let url = gw.ws_url(&format!("/chat?ticket={token}"));

    let (status, _) = refused(&url, &[("Cookie", "session=bad")]).await;
    assert_eq!(status, 401, "the auth service denies this session");
    let (mut ws, _) = ws_with(&url, &[("Cookie", "session=good")])
        .await
        .expect("the same ticket is still unused after the external refusal");
    echo(&mut ws, "hi").await;
    let (status, body) = refused(&url, &[("Cookie", "session=good")]).await;
    assert_eq!(status, 403, "and it is single use once admitted: {body}");
    assert!(body.contains("already used"), "{body}");
    assert_eq!(
        backend.handshakes(),
        1,
        "only the admitted handshake arrived"
    );
}
