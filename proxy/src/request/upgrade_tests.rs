//! The upgrade path's order: a malformed handshake is refused before policy spends
//! anything on it.

use std::net::SocketAddr;
use std::time::Duration;

use http::{StatusCode, header};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wsgate_core::table::RouteTable;
use wsgate_core::table::security::ListenerOptions;

use super::*;
use crate::metrics::Metrics;

const KEY: &str = "0123456789abcdef0123456789abcdef";
const WAIT: Duration = Duration::from_secs(10);

/// A backend that completes WebSocket handshakes, counting the connections it accepts
/// (before it answers, so a `101` seen by the proxy is already counted).
async fn backend() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let accept = tokio_tungstenite::accept_async(stream);
                let _ = tokio::time::timeout(WAIT, accept).await;
            });
        }
    });
    (addr, accepted)
}

fn state_for(backend: SocketAddr) -> Arc<State> {
    let yaml = format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: chat}}\nspec:\n  \
         auth: {{ticket: {{key: \"{KEY}\"}}}}\n  rules: [{{backend: {{addresses: [\"{backend}\"]}}}}]\n"
    );
    let loaded = wsgate_core::config::load_str(&yaml).expect("routes");
    let metrics = Metrics::new(&prometheus::Registry::new()).expect("metrics");
    let state = State::new(
        metrics,
        ListenerOptions::default(),
        &Default::default(),
        CancellationToken::new(),
        Duration::ZERO,
    );
    state.apply(&RouteTable {
        version: 1,
        ..loaded.table
    });
    Arc::new(state)
}

/// A single-use ticket (HS256, `jti`) for route `default/chat`.
fn ticket() -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({"sub": "u1", "jti": "once", "exp": now + 60});
    let key = jsonwebtoken::EncodingKey::from_secret(KEY.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("token")
}

fn handshake(ticket: &str, version: &str) -> Request<()> {
    Request::builder()
        .uri(format!("/chat?ticket={ticket}"))
        .header(header::HOST, "chat.example.com")
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
        .header(header::SEC_WEBSOCKET_VERSION, version)
        .body(())
        .expect("request")
}

async fn attempt(state: &Arc<State>, req: Request<()>) -> Result<StatusCode, ProxyError> {
    let conn = ConnInfo::new(SocketAddr::from(([127, 0, 0, 7], 40000)), Proto::Http);
    let mut access = crate::access::AccessSlot::default();
    let served = tokio::time::timeout(WAIT, serve(state, req, conn, &mut access)).await;
    served
        .expect("the handshake is answered in time")
        .map(|r| r.status())
}

#[tokio::test]
async fn a_malformed_handshake_gets_400_without_spending_its_single_use_ticket() {
    let (addr, accepted) = backend().await;
    let state = state_for(addr);
    let token = ticket();

    let malformed = attempt(&state, handshake(&token, "8")).await;
    let err = malformed.expect_err("version 8 is refused");
    assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{err}");

    let admitted = attempt(&state, handshake(&token, "13")).await;
    assert_eq!(
        admitted.expect("the ticket is still unused"),
        StatusCode::SWITCHING_PROTOCOLS
    );

    // The ticket is single use indeed: a third attempt is a replay.
    let replayed = attempt(&state, handshake(&token, "13")).await;
    let err = replayed.expect_err("the ticket was used by the second attempt");
    assert_eq!(err.status(), StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err.reason(), "ticket_replayed");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only the well-formed, admitted handshake reached the backend"
    );
}
