//! Ticket authentication through the real wsgate binary: every placement succeeding, every
//! refusal, tickets minted by Node's `jsonwebtoken`, and no ticket in logs or upstream.

mod security_support;

use security_support::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{IO_TIMEOUT, close_ws, next_within, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::wait::within;
use wsgate_tests::wsgate::{Scratch, Wsgate, routes};

fn ticket_route(backend: &Backend, key_file: &str, from: &str, extra: &str) -> String {
    routes(
        "chat",
        &[backend.addr],
        &format!(
            "  auth:\n    firstMessageTimeout: 1s\n    ticket:\n      keyFile: {key_file}\n      from: [{from}]\n      claimHeaders: [role]\n{extra}"
        ),
    )
}

fn good_claims() -> serde_json::Value {
    json!({"sub": "user-1", "role": "editor", "jti": jti(), "exp": now() + 60,
           "aud": "default/chat", "ip": "127.0.0.1"})
}

#[e2e]
async fn query_ticket_is_verified_stripped_single_use_and_never_logged() {
    let dir = Scratch::new("ticket-query");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&ticket_route(&backend, &key, "Query", "")).await;
    gw.wait_ready().await;
    let token = mint("HS256", &key, good_claims(), None);
    let url = gw.ws_url(&format!("/chat?room=1&ticket={token}"));
    let spoof = [
        ("X-Wsgate-Claim-Sub", "admin"),
        ("X-Wsgate-Claim-Role", "root"),
    ];
    let (mut ws, _) = ws_with(&url, &spoof)
        .await
        .expect("a valid ticket is admitted");
    echo(&mut ws, "hello").await;
    let (path, headers) = last_handshake(&backend);
    assert_eq!(path, "/chat?room=1", "the ticket parameter is stripped");
    assert_eq!(
        headers["x-wsgate-claim-sub"], "user-1",
        "client-sent claim headers are replaced"
    );
    assert_eq!(headers["x-wsgate-claim-role"], "editor");
    close_ws(&mut ws).await;

    let (status, body) = refused(&url, &[]).await;
    assert_eq!(status, 403, "a replayed ticket is refused: {body}");
    assert!(body.contains("already used"), "{body}");
    // Everything up to the refusal is in the log once the refusal is.
    let log = gw.wait_log("ticket_replayed").await;
    let signature = token.rsplit('.').next().expect("signature");
    assert!(
        !log.contains(signature),
        "the ticket leaked into the log:\n{log}"
    );
    assert!(
        log.contains("ticket_replayed"),
        "the refusal is logged:\n{log}"
    );
    let seen = format!("{:?}", backend.seen());
    assert!(!seen.contains(signature), "the ticket reached the backend");
    assert_eq!(
        gw.metric("wsgate_auth_refusals_total{namespace=\"default\",reason=\"ticket_replayed\"")
            .await,
        1.0
    );
}

#[e2e]
async fn subprotocol_ticket_is_removed_and_the_other_protocol_forwarded() {
    let dir = Scratch::new("ticket-proto");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&ticket_route(&backend, &key, "Subprotocol", "")).await;
    gw.wait_ready().await;
    let token = mint("HS256", &key, good_claims(), None);
    let mut tcp = within(
        IO_TIMEOUT,
        "connect",
        tokio::net::TcpStream::connect(gw.http),
    )
    .await
    .expect("connect");
    let protocols = format!("ticket.{token}, chat.v1");
    let head = raw_handshake(&mut tcp, "/chat", &[("Sec-WebSocket-Protocol", &protocols)]).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let (_, headers) = last_handshake(&backend);
    assert_eq!(headers["sec-websocket-protocol"], "chat.v1");
    assert_eq!(headers["x-wsgate-claim-sub"], "user-1");
}

#[e2e]
async fn first_message_ticket_is_consumed_then_the_socket_is_spliced() {
    let dir = Scratch::new("ticket-first");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&ticket_route(&backend, &key, "FirstMessage", "")).await;
    gw.wait_ready().await;
    let token = mint("HS256", &key, good_claims(), None);
    let mut ws = ws_connect(&gw.ws_url("/chat"))
        .await
        .expect("wsgate answers the upgrade");
    assert_eq!(backend.handshakes(), 0, "no backend before the ticket");
    send_msg(&mut ws, Message::text(token.clone())).await;
    echo(&mut ws, "hello").await;
    let messages: Vec<Message> = backend
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(
        messages,
        vec![Message::text("hello")],
        "the ticket message is not forwarded"
    );
    assert_eq!(last_handshake(&backend).1["x-wsgate-claim-sub"], "user-1");

    for (send, code) in [(Some("not-a-ticket"), 4401u16), (None, 4401)] {
        let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("upgrade");
        if let Some(text) = send {
            send_msg(&mut ws, Message::text(text)).await;
        }
        let frame = next_within(&mut ws, IO_TIMEOUT).await;
        match frame {
            Some(Ok(Message::Close(Some(f)))) => assert_eq!(f.code, CloseCode::from(code), "{f:?}"),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    assert_eq!(
        backend.handshakes(),
        1,
        "refused tickets never reach the backend"
    );
}

#[e2e]
async fn every_bad_ticket_is_refused_with_its_status() {
    let dir = Scratch::new("ticket-bad");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    let other = write_key(dir.path("other.key"), "another-key-of-enough-length-123");
    let backend = Backend::start("b1").await;
    let gw = Wsgate::launch(&ticket_route(&backend, &key, "Query", "")).await;
    gw.wait_ready().await;
    let t = now();
    let cases = [
        (
            "expired",
            json!({"jti": jti(), "exp": t - 60}),
            &key,
            401,
            "expired",
        ),
        (
            "not yet valid",
            json!({"jti": jti(), "exp": t + 120, "nbf": t + 60}),
            &key,
            401,
            "not valid yet",
        ),
        (
            "wrong signature",
            json!({"jti": jti(), "exp": t + 60}),
            &other,
            401,
            "signature",
        ),
        (
            "wrong audience",
            json!({"jti": jti(), "exp": t + 60, "aud": "default/other"}),
            &key,
            403,
            "audience",
        ),
        (
            "wrong IP",
            json!({"jti": jti(), "exp": t + 60, "ip": "192.0.2.1"}),
            &key,
            403,
            "client address",
        ),
    ];
    for (name, claims, key_file, status, words) in cases {
        let token = mint("HS256", key_file, claims, None);
        let (got, body) = refused(&gw.ws_url(&format!("/chat?ticket={token}")), &[]).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(body.contains(words), "{name}: {body}");
        assert!(!body.contains(&token), "{name}: the body echoes the ticket");
    }
    let (got, _) = refused(&gw.ws_url("/chat"), &[]).await;
    assert_eq!(got, 401, "no ticket at all");
    assert_eq!(
        backend.handshakes(),
        0,
        "the backend never saw a refused handshake"
    );
}

#[e2e]
async fn rs256_pem_and_es256_jwks_tickets_from_node_are_accepted() {
    for (alg, file, kid) in [
        ("RS256", "public.pem", None),
        ("ES256", "jwks.json", Some("k1")),
    ] {
        let dir = Scratch::new("ticket-pk");
        keys(alg, &dir.0);
        let backend = Backend::start("b1").await;
        let field = if file == "jwks.json" {
            "jwksFile"
        } else {
            "publicKeyFile"
        };
        let yaml = routes(
            "chat",
            &[backend.addr],
            &format!(
                "  auth:\n    ticket:\n      algorithm: {alg}\n      {field}: {}\n",
                dir.path(file).display()
            ),
        );
        let gw = Wsgate::launch(&yaml).await;
        gw.wait_ready().await;
        let private = dir.path("private.pem").display().to_string();
        let token = mint(alg, &private, good_claims(), kid);
        let (mut ws, _) = ws_with(&gw.ws_url(&format!("/chat?ticket={token}")), &[])
            .await
            .unwrap_or_else(|e| panic!("{alg} ticket refused: {e:?}"));
        echo(&mut ws, alg).await;
        let forged = mint(
            "HS256",
            &write_key(dir.path("hs.key"), HS_KEY),
            good_claims(),
            kid,
        );
        let (status, _) = refused(&gw.ws_url(&format!("/chat?ticket={forged}")), &[]).await;
        assert_eq!(status, 401, "{alg}: an HS256 ticket must not pass as {alg}");
    }
}
