//! The Origin policy on a real wsgate: allowed, wildcard, same-host, disallowed and missing.

mod security_support;

use security_support::*;
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Wsgate, routes};

#[e2e]
async fn origins_are_checked_before_the_backend_sees_anything() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        "  origins:\n    allow: [\"https://chat.example.com\", \"https://*.example.org\"]\n",
    ))
    .await;
    gw.wait_ready().await;
    let url = gw.ws_url("/chat");
    for allowed in [
        "https://chat.example.com",
        "https://app.example.org",
        "https://a.b.example.org",
    ] {
        let (mut ws, _) = ws_with(&url, &[("Origin", allowed)])
            .await
            .unwrap_or_else(|e| panic!("{allowed} refused: {e:?}"));
        echo(&mut ws, allowed).await;
    }
    let before = backend.handshakes();
    let (status, body) = refused(&url, &[("Origin", "https://evil.example.net")]).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("Origin") && body.contains("not allowed"),
        "{body}"
    );
    let (status, _) = refused(&url, &[("Origin", "https://example.org")]).await;
    assert_eq!(status, 403, "the wildcard does not cover the apex");
    let (status, body) = refused(&url, &[]).await;
    assert_eq!(
        status, 403,
        "a missing Origin is refused unless allowed: {body}"
    );
    assert_eq!(
        backend.handshakes(),
        before,
        "refused handshakes never reach the backend"
    );
    assert_eq!(
        gw.metric("wsgate_origin_refusals_total{namespace=\"default\",route=\"chat\"}")
            .await,
        3.0
    );
    let log = gw.log();
    assert!(
        log.lines()
            .any(|l| l.contains("default/chat") && l.contains("https://evil.example.net")),
        "the refusal log names route and origin:\n{log}"
    );
}

#[e2e]
async fn same_host_and_explicitly_allowed_missing_origin() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        "  origins:\n    sameHost: true\n    allowMissingOrigin: true\n",
    ))
    .await;
    gw.wait_ready().await;
    let url = gw.ws_url("/chat");
    let own = format!("http://{}", gw.http);
    let (mut ws, _) = ws_with(&url, &[("Origin", &own)]).await.expect("same host");
    echo(&mut ws, "same").await;
    let (mut ws, _) = ws_with(&url, &[])
        .await
        .expect("no Origin: a non-browser client");
    echo(&mut ws, "cli").await;
    let (status, _) = refused(&url, &[("Origin", "http://127.0.0.1:1")]).await;
    assert_eq!(status, 403, "another port is another origin");
}

#[e2e]
async fn l9_origin_checks_the_scheme_for_same_host_and_refuses_two_origins() {
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&routes(
        "chat",
        &[backend.addr],
        "  origins:\n    allow: [\"https://*.example.org\"]\n    sameHost: true\n",
    ))
    .await;
    gw.wait_ready().await;
    let host = [("Host", "same.test")];
    let head = |origins: &'static [&'static str]| {
        let gw = &gw;
        async move {
            let mut extra: Vec<(&str, &str)> = host.to_vec();
            extra.extend(origins.iter().map(|o| ("Origin", *o)));
            wsgate_tests::raw::upgrade(gw.http, "/chat", &extra).await.1
        }
    };
    // The plaintext listener: an http:// page of the same host is the same origin...
    assert!(
        head(&["http://same.test"])
            .await
            .starts_with("HTTP/1.1 101")
    );
    // ...an https:// page is not (the audit's probe), nor is a second Origin after a good one.
    for origins in [
        &["https://same.test"][..],
        &["http://same.test", "https://evil.test"][..],
        &["https://evil.com\\.example.org"][..],
    ] {
        let got = head(origins).await;
        assert!(got.starts_with("HTTP/1.1 403"), "{origins:?}: {got}");
    }
    assert_eq!(
        backend.handshakes(),
        1,
        "only the same-origin handshake arrived"
    );
}
