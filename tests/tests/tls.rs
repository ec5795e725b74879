//! `wss://` termination by the real wsgate binary: certificates by SNI, unknown names,
//! certificate rotation without restarts, and HTTP-to-HTTPS redirects.

#[path = "support/mod.rs"]
mod support;

use support::certs::{Alg, Ca};
use support::{start_tls, tls_route, write_pair};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{IO_TIMEOUT, close_ws, http_get, next_msg, send_msg};
use wsgate_tests::e2e;
use wsgate_tests::tls::{
    Versions, client_config, peer_leaf, pem_to_der, tls_connect, tls_error, wss_connect,
};
use wsgate_tests::wait::within;
use wsgate_tests::wsgate::Scratch;

async fn echo(ws: &mut wsgate_tests::tls::Wss, text: &str) {
    send_msg(ws, Message::text(text)).await;
    assert_eq!(next_msg(ws).await, Message::text(text));
}

#[e2e]
async fn wss_echoes_through_wsgate_to_a_plain_backend_with_a_full_chain() {
    let root = Ca::root("wsgate test root");
    let intermediate = root.intermediate("wsgate test intermediate");
    let leaf = intermediate.leaf(&["chat.example.test"], Alg::Ecdsa);
    let dir = Scratch::new("tls-echo");
    let certs = write_pair(&dir.path("certs"), &leaf);
    let backend = Backend::start("plain").await;
    let routes = tls_route(
        "chat",
        &["chat.example.test"],
        backend.addr,
        Some(&certs),
        "",
        "",
    );
    let (gw, https) = start_tls(&routes).await;

    // The client trusts only the root: the handshake works because the intermediate is served.
    let config = client_config(&root.pem, Versions::Both);
    let tls = tls_connect(https, "chat.example.test", config.clone())
        .await
        .expect("TLS");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    drop(tls);

    let mut ws = wss_connect(https, "chat.example.test", "/room?x=1", config)
        .await
        .expect("wss");
    echo(&mut ws, "over tls").await;
    let big: Vec<u8> = (0..(256 * 1024)).map(|i| (i % 251) as u8).collect();
    send_msg(&mut ws, Message::binary(big.clone())).await;
    match next_msg(&mut ws).await {
        Message::Binary(b) => assert!(b.as_ref() == big.as_slice(), "binary echo differs"),
        other => panic!("expected binary, got {other:?}"),
    }
    close_ws(&mut ws).await;

    let proto = backend.seen().iter().find_map(|s| match s {
        Seen::Handshake(path, h) if path == "/room?x=1" => h
            .get("x-forwarded-proto")
            .map(|v| v.to_str().unwrap_or("").to_string()),
        _ => None,
    });
    assert_eq!(
        proto.as_deref(),
        Some("https"),
        "backend told the client used https"
    );
    assert_eq!(
        gw.metric("wsgate_tls_handshakes_total{result=\"ok\",version=\"TLSv1.3\"}")
            .await,
        2.0
    );
    assert!(
        gw.metric("wsgate_tls_handshake_duration_seconds_count{version=\"TLSv1.3\"}")
            .await
            >= 2.0
    );
}

#[e2e]
async fn sni_picks_exact_then_wildcard_then_default_certificate() {
    let ca = Ca::root("wsgate sni ca");
    let dir = Scratch::new("tls-sni");
    let exact = ca.leaf(&["a.example.test"], Alg::Rsa);
    let wild = ca.leaf(&["*.example.test"], Alg::Ecdsa);
    let other = ca.leaf(&["b.other.test"], Alg::Ed25519);
    // The default certificate also covers a name no route lists, so the client can verify it.
    let fallback = ca.leaf(&["fallback.test", "unknown.test"], Alg::Ecdsa);
    let backend = Backend::start("sni").await;
    let routes = [
        tls_route(
            "a",
            &["a.example.test"],
            backend.addr,
            Some(&write_pair(&dir.path("a"), &exact)),
            "",
            "",
        ),
        tls_route(
            "wild",
            &["*.example.test"],
            backend.addr,
            Some(&write_pair(&dir.path("w"), &wild)),
            "",
            "",
        ),
        tls_route(
            "b",
            &["b.other.test"],
            backend.addr,
            Some(&write_pair(&dir.path("b"), &other)),
            "",
            "",
        ),
    ]
    .concat();
    let (gw, https) = start_tls(&routes).await;
    let config = client_config(&ca.pem, Versions::Both);
    for (sni, want, name) in [
        ("a.example.test", &exact, "exact host, RSA key"),
        ("chat.example.test", &wild, "wildcard, ECDSA key"),
        ("b.other.test", &other, "second host, Ed25519 key"),
    ] {
        let tls = tls_connect(https, sni, config.clone())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(peer_leaf(&tls), pem_to_der(&want.cert_pem), "{name}");
        let mut ws = wss_connect(https, sni, "/", config.clone())
            .await
            .expect("wss");
        echo(&mut ws, sni).await;
    }
    let expiry = gw
        .metric("wsgate_certificate_expiry_timestamp_seconds{host=\"*.example.test\"}")
        .await;
    assert!(
        expiry > 1.7e9,
        "wildcard certificate expiry exported: {expiry}"
    );

    // A catch-all TLS route added later becomes the default certificate for unknown names.
    let with_default = format!(
        "{routes}{}",
        tls_route(
            "fallback",
            &[],
            backend.addr,
            Some(&write_pair(&dir.path("d"), &fallback)),
            "",
            ""
        )
    );
    gw.rewrite(&with_default);
    gw.wait_version(2.0).await;
    let tls = tls_connect(https, "unknown.test", config.clone())
        .await
        .unwrap_or_else(|e| panic!("unknown name after the reload: {e}: {}", gw.log()));
    assert_eq!(
        peer_leaf(&tls),
        pem_to_der(&fallback.cert_pem),
        "unknown name served the default certificate"
    );
    let tls = tls_connect(https, "a.example.test", config)
        .await
        .expect("exact still wins");
    assert_eq!(peer_leaf(&tls), pem_to_der(&exact.cert_pem));
}

#[e2e]
async fn an_unknown_name_without_default_fails_with_unrecognized_name() {
    let ca = Ca::root("wsgate unknown ca");
    let dir = Scratch::new("tls-unknown");
    let leaf = ca.leaf(&["known.example.test"], Alg::Ecdsa);
    let backend = Backend::start("unknown").await;
    let routes = tls_route(
        "known",
        &["known.example.test"],
        backend.addr,
        Some(&write_pair(&dir.path("c"), &leaf)),
        "",
        "",
    );
    let (gw, https) = start_tls(&routes).await;
    let err = tls_connect(
        https,
        "other.example.test",
        client_config(&ca.pem, Versions::Both),
    )
    .await
    .expect_err("no certificate for this name");
    assert_eq!(
        tls_error(&err),
        Some(&rustls::Error::AlertReceived(
            rustls::AlertDescription::UnrecognisedName
        )),
        "{err}"
    );
    assert_eq!(
        gw.metric("wsgate_tls_handshakes_total{result=\"unrecognized_name\"")
            .await,
        1.0
    );
    assert_eq!(backend.requests(), 0, "nothing reached the backend");
    // The known name still works on the same listener.
    tls_connect(
        https,
        "known.example.test",
        client_config(&ca.pem, Versions::Both),
    )
    .await
    .expect("known name");
}

#[e2e]
async fn plain_http_redirects_to_https_and_websockets_are_refused_in_clear() {
    let backend = Backend::start("redirect").await;
    let routes = tls_route(
        "web",
        &["web.example.test"],
        backend.addr,
        None,
        ", redirectHttp: true",
        "",
    );
    let gw = wsgate_tests::wsgate::Wsgate::launch(&routes).await;
    gw.wait_ready().await;
    let uri: http::Uri = gw.http_url("/login?next=%2F").parse().expect("uri");
    let req = http::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", format!("web.example.test:{}", gw.http.port()))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let (status, _, headers) = wsgate_tests::client::http_request(&gw.http.to_string(), req)
        .await
        .expect("GET");
    assert_eq!(status, 308);
    assert_eq!(
        headers["location"],
        "https://web.example.test/login?next=%2F"
    );
    assert_eq!(backend.requests(), 0, "the redirect is answered by wsgate");
    // Another host on the same listener (no redirect route) is not affected.
    let (status, _) = http_get(&gw.http_url("/x"), Some("elsewhere.test"))
        .await
        .expect("GET");
    assert_eq!(status, 404);

    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        gw.ws_url("/ws"),
    )
    .expect("request");
    req.headers_mut()
        .insert("host", "web.example.test".parse().expect("host"));
    let refused = within(
        IO_TIMEOUT,
        "ws upgrade",
        tokio_tungstenite::connect_async(req),
    )
    .await
    .expect_err("a route served over TLS only takes no ws:// upgrade");
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status(), 403);
            let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default());
            assert!(body.contains("wss://"), "{body}");
        }
        other => panic!("expected a 403, got {other}"),
    }
    assert_eq!(backend.handshakes(), 0);
}
