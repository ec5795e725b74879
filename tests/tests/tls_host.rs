//! M6 through the real binary: the Host of a request on the TLS listener must be served by
//! the certificate and TLS policy its SNI chose (else 421), and a route with a certificate is
//! not served in clear (308 for pages, 403 naming wss:// for upgrades) unless a trusted
//! proxy says the client used https.

#[path = "support/mod.rs"]
mod support;

use support::certs::{Alg, Ca};
use support::{start_tls, tls_route, write_pair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsgate_tests::backend::Backend;
use wsgate_tests::e2e;
use wsgate_tests::raw::{http_status, upgrade};
use wsgate_tests::tls::{Versions, client_config, tls_connect};
use wsgate_tests::wait::{IO_TIMEOUT, within};
use wsgate_tests::wsgate::{Scratch, Wsgate};

/// Sends one GET with `host` on a TLS connection made with `sni`; returns the status.
async fn status_over_tls(
    https: std::net::SocketAddr,
    ca: &str,
    versions: Versions,
    sni: &str,
    host: &str,
) -> u16 {
    let mut tls = tls_connect(https, sni, client_config(ca, versions))
        .await
        .expect("handshake");
    let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    within(IO_TIMEOUT, "write", tls.write_all(req.as_bytes()))
        .await
        .expect("write");
    let mut resp = Vec::new();
    let _ = within(IO_TIMEOUT, "response", tls.read_to_end(&mut resp)).await;
    wsgate_tests::raw::status_of(&String::from_utf8_lossy(&resp))
}

fn two_policies(dir: &Scratch, ca: &Ca, backend: std::net::SocketAddr) -> String {
    let t12 = ca.leaf(&["tls12.test"], Alg::Ecdsa);
    let t13 = ca.leaf(&["tls13.test"], Alg::Ecdsa);
    [
        tls_route(
            "tls12",
            &["tls12.test"],
            backend,
            Some(&write_pair(&dir.path("a"), &t12)),
            "",
            "",
        ),
        tls_route(
            "tls13",
            &["tls13.test"],
            backend,
            Some(&write_pair(&dir.path("b"), &t13)),
            ", minVersion: \"1.3\"",
            "",
        ),
    ]
    .concat()
}

#[e2e]
async fn m6_host_must_be_served_by_the_sni_certificate_else_421() {
    let ca = Ca::root("wsgate m6 ca");
    let dir = Scratch::new("m6");
    let backend = Backend::start("b").await;
    let (gw, https) = start_tls(&two_policies(&dir, &ca, backend.addr)).await;
    // The audit's probe: a TLS 1.2 handshake for tls12.test, then Host: tls13.test.
    let pem = &ca.pem;
    assert_eq!(
        status_over_tls(https, pem, Versions::Tls12, "tls12.test", "tls13.test").await,
        421
    );
    assert_eq!(backend.requests(), 0, "nothing reached the backend");
    assert_eq!(
        status_over_tls(https, pem, Versions::Tls12, "tls12.test", "tls12.test:443").await,
        200
    );
    assert_eq!(
        status_over_tls(https, pem, Versions::Tls13, "tls13.test", "TLS13.test").await,
        200
    );
    assert_eq!(
        gw.metric("wsgate_request_errors_total{reason=\"misdirected\"}")
            .await,
        1.0
    );
    // In clear, the routes with certificates are not served: 308 for a page, 403 naming
    // wss:// for a WebSocket (a browser does not follow a redirect for ws://).
    let get = "GET /p?q=1 HTTP/1.1\r\nHost: tls13.test\r\n\r\n";
    assert_eq!(http_status(gw.http, get).await, 308);
    let (mut tcp, head) = upgrade(gw.http, "/ws", &[("Host", "tls13.test")]).await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let mut body = vec![0u8; 512];
    let n = within(IO_TIMEOUT, "body", tcp.read(&mut body))
        .await
        .unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&body[..n]).contains("wss://"),
        "a clear body"
    );
    assert_eq!(
        backend.requests() + backend.handshakes(),
        2,
        "only the two 200s above"
    );
}

#[e2e]
async fn m6_a_trusted_proxys_https_counts_as_tls_on_the_plaintext_listener() {
    let ca = Ca::root("wsgate m6 lb ca");
    let dir = Scratch::new("m6-lb");
    let backend = Backend::start("b").await;
    let config = "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata:\n  name: proxy\nspec:\n  trustedProxies: [\"127.0.0.0/8\"]\n";
    let gw = Wsgate::launch(&format!(
        "{config}{}",
        two_policies(&dir, &ca, backend.addr)
    ))
    .await;
    gw.wait_ready().await;
    // Behind a TLS-terminating balancer the redirect would loop: it is not sent.
    let via_lb = "GET / HTTP/1.1\r\nHost: tls13.test\r\nX-Forwarded-Proto: https\r\n\r\n";
    assert_eq!(http_status(gw.http, via_lb).await, 200);
    let (_tcp, head) = upgrade(
        gw.http,
        "/ws",
        &[("Host", "tls13.test"), ("X-Forwarded-Proto", "https")],
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let plain = "GET / HTTP/1.1\r\nHost: tls13.test\r\nX-Forwarded-Proto: http\r\n\r\n";
    assert_eq!(http_status(gw.http, plain).await, 308);
}
