//! What a client cannot decide on for wsgate, through the real binary: identity headers
//! (claims, external-auth answers, forwarding) in any spelling or via `Connection`, the
//! `Host` rules, upgrade bodies and `CONNECT`.

mod security_support;

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use security_support::*;
use tokio::net::TcpListener;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::e2e;
use wsgate_tests::raw::{http_status, upgrade};
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

fn last_request(backend: &Backend) -> HeaderMap {
    backend
        .seen()
        .into_iter()
        .rev()
        .find_map(|s| match s {
            Seen::Request(_, _, h) => Some(h),
            _ => None,
        })
        .expect("the backend saw a request")
}

#[e2e]
async fn m2_connection_tokens_and_underscores_cannot_forge_or_remove_claims() {
    let dir = Scratch::new("m2");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b").await;
    let extra = format!(
        "  auth:\n    ticket:\n      keyFile: {key}\n      from: [Query]\n      claimHeaders: [role]\n"
    );
    let gw = Wsgate::launch(&routes("chat", &[backend.addr], &extra)).await;
    gw.wait_ready().await;
    let claims =
        serde_json::json!({"sub": "user1", "role": "editor", "jti": jti(), "exp": now() + 60});
    let token = mint("HS256", &key, claims, None);
    let forged = [
        (
            "Connection",
            "X-Wsgate-Claim-Sub, x-wsgate-claim-role, Host",
        ),
        ("X_Wsgate_Claim_Sub", "admin"),
        ("x-wsgate_claim-role", "root"),
    ];
    let (_tcp, head) = upgrade(gw.http, &format!("/chat?ticket={token}"), &forged).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let (_, h) = last_handshake(&backend);
    assert_eq!(h["x-wsgate-claim-sub"], "user1", "{h:?}");
    assert_eq!(h["x-wsgate-claim-role"], "editor");
    assert_eq!(h["host"], "chat.test", "Connection cannot remove Host");
    for spelled in ["x_wsgate_claim_sub", "x-wsgate_claim-role"] {
        assert!(
            !h.contains_key(spelled),
            "{spelled} reached the backend: {h:?}"
        );
    }
}

/// Admits everyone; never answers with `X-User` (an anonymous user).
async fn anonymous(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::new())))
}

#[e2e]
async fn m3_external_auth_response_headers_from_the_client_are_removed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let auth = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), service_fn(anonymous)),
            );
        }
    });
    let backend = Backend::start("b").await;
    let extra = format!(
        "  auth:\n    external:\n      url: http://{auth}/verify\n      responseHeaders: [X-User]\n"
    );
    let gw = Wsgate::launch(&routes("chat", &[backend.addr], &extra)).await;
    gw.wait_ready().await;
    let forged = [("X-User", "admin"), ("X_User", "admin")];
    let (_tcp, head) = upgrade(gw.http, "/chat", &forged).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let (_, h) = last_handshake(&backend);
    assert!(
        !h.contains_key("x-user") && !h.contains_key("x_user"),
        "{h:?}"
    );
    let get = "GET /page HTTP/1.1\r\nHost: chat.test\r\nX-User: admin\r\nX_User: admin\r\n\r\n";
    assert_eq!(http_status(gw.http, get).await, 200);
    let h = last_request(&backend);
    assert!(
        !h.contains_key("x-user") && !h.contains_key("x_user"),
        "{h:?}"
    );
}

#[e2e]
async fn m5_l2_l8_l15_host_body_forwarding_and_connect_rules() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&routes("open", &[backend.addr], "")).await;
    gw.wait_ready().await;
    let refused = [
        (
            "duplicate Host",
            "GET / HTTP/1.1\r\nHost: open.test\r\nHost: evil.test\r\n\r\n",
            400,
        ),
        ("no Host on HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400),
        (
            "CONNECT",
            "CONNECT open.test:443 HTTP/1.1\r\nHost: open.test:443\r\n\r\n",
            405,
        ),
        (
            "upgrade with a body",
            "GET / HTTP/1.1\r\nHost: open.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 6\r\n\r\n\u{81}\u{80}abcd",
            400,
        ),
    ];
    for (what, request, want) in refused {
        assert_eq!(http_status(gw.http, request).await, want, "{what}");
    }
    assert_eq!(
        backend.requests() + backend.handshakes(),
        0,
        "nothing reached the backend"
    );
    let spoofed = "GET /a HTTP/1.1\r\nHost: open.test\r\nConnection: close, X-Real-IP, Host, X-Forwarded-For\r\n\
        X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6;proto=https\r\nTrue-Client-IP: 6.6.6.6\r\n\
        X_Real_IP: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n\r\n";
    assert_eq!(http_status(gw.http, spoofed).await, 200);
    let h = last_request(&backend);
    assert_eq!(h["host"], "open.test");
    assert_eq!(h["x-forwarded-for"], "127.0.0.1", "replaced, not extended");
    assert_eq!(h["x-real-ip"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], "open.test");
    for gone in ["forwarded", "true-client-ip", "x_real_ip"] {
        assert!(!h.contains_key(gone), "{gone} reached the backend: {h:?}");
    }
    for reason in ["bad_request", "method_not_allowed", "bad_handshake"] {
        let n = gw
            .metric(&format!(
                "wsgate_request_errors_total{{reason=\"{reason}\"}}"
            ))
            .await;
        assert!(n >= 1.0, "{reason} counted: {n}");
    }
}
