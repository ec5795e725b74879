//! L6: a route whose ticket comes as the first message opens its backend WebSocket the way
//! every upgrade does, so the route's backend TLS (CA, server name) applies to it.

#[path = "support/mod.rs"]
mod support;

#[path = "security_support/mod.rs"]
mod security_support;

use security_support::{HS_KEY, jti, mint, now, write_key};
use support::certs::{Alg, Ca};
use support::{start_tls, tls_route, write_pair};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{IO_TIMEOUT, next_msg, send_msg};
use wsgate_tests::e2e;
use wsgate_tests::wait::within;
use wsgate_tests::wsgate::{Scratch, Wsgate};

#[e2e]
async fn l6_a_first_message_ticket_route_speaks_tls_to_its_backend() {
    let ca = Ca::root("wsgate l6 ca");
    let dir = Scratch::new("l6");
    std::fs::write(dir.path("ca.crt"), &ca.pem).expect("ca");
    let key = write_key(dir.path("hs.key"), HS_KEY);
    // The wss backend: a second wsgate terminating TLS in front of a plain echo backend.
    let app = Backend::start("behind-tls").await;
    let leaf = ca.leaf(&["api.internal"], Alg::Ecdsa);
    let cert = write_pair(&dir.path("inner"), &leaf);
    let (_inner, inner_https) = start_tls(&tls_route(
        "inner",
        &["api.internal"],
        app.addr,
        Some(&cert),
        "",
        "",
    ))
    .await;
    let outer = Wsgate::launch(&format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: chat}}\nspec:\n  auth:\n    ticket: {{keyFile: {key}, from: [FirstMessage]}}\n  rules:\n    - backend:\n        addresses: [\"{inner_https}\"]\n        tls: {{caFile: \"{}\", serverName: api.internal}}\n",
        dir.path("ca.crt").display()
    ))
    .await;
    outer.wait_ready().await;
    // The inner wsgate serves api.internal only: the client names it (wsgate forwards Host).
    let mut req = outer
        .ws_url("/chat")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("host", "api.internal".parse().expect("host"));
    let (mut ws, _) = within(IO_TIMEOUT, "upgrade", tokio_tungstenite::connect_async(req))
        .await
        .expect("wsgate answers the upgrade itself");
    let claims = serde_json::json!({"sub": "u1", "jti": jti(), "exp": now() + 60});
    send_msg(&mut ws, Message::text(mint("HS256", &key, claims, None))).await;
    send_msg(&mut ws, Message::text("over tls")).await;
    assert_eq!(next_msg(&mut ws).await, Message::text("over tls"));
    // (The inner wsgate removes claim headers, as it does on every route: only the
    // handshake and the message are checked at the app.)
    assert_eq!(
        app.handshakes(),
        1,
        "one handshake reached the app, through TLS"
    );
    let echoed = app
        .seen()
        .into_iter()
        .any(|s| matches!(s, Seen::Message(Message::Text(t)) if t.as_str() == "over tls"));
    assert!(
        echoed,
        "the message went through the TLS backend connection"
    );
}
