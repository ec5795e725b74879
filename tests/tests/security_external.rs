//! External authorization: a real HTTP auth service admits, denies, or is too slow.

mod security_support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use security_support::*;
use tokio::net::TcpListener;
use wsgate_tests::backend::Backend;
use wsgate_tests::wsgate::{Wsgate, routes};

/// Admits `session=good` (with `X-User: alice`), denies `session=bad`, stalls on `session=slow`.
async fn auth_service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
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
        tokio::time::sleep(Duration::from_secs(3)).await;
    } else {
        *resp.status_mut() = http::StatusCode::UNAUTHORIZED;
        *resp.body_mut() = Full::new(Bytes::from_static(b"please log in\n"));
    }
    Ok(resp)
}

#[tokio::test]
async fn external_auth_admits_denies_and_fails_closed_on_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let auth_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), service_fn(auth_service)),
            );
        }
    });
    let backend = Backend::start("b1").await;
    let gw = Wsgate::start(&routes(
        "chat",
        &[backend.addr],
        &format!(
            "  auth:\n    external:\n      url: http://{auth_addr}/verify\n      responseHeaders: [X-User]\n      timeout: 500ms\n"
        ),
    ));
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
    let started = std::time::Instant::now();
    let (status, _) = refused(&url, &[("Cookie", "session=slow")]).await;
    assert_eq!(status, 503, "a slow auth service fails closed");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the timeout is the route's 500ms"
    );
    assert_eq!(backend.handshakes(), 1);
}
