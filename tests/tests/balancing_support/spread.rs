//! How connections spread over backends: opening many at once, counting them per backend,
//! checking evenness; a cookie-carrying request; an address that refuses connections.

use std::collections::HashMap;

use tokio::net::TcpSocket;
use wsgate_tests::client::{Ws, http_request, ws_connect};
use wsgate_tests::wsgate::Wsgate;

use super::whoami;

/// Opens `n` WebSockets to `/chat` (50 at a time) and asks each which backend it reached.
pub async fn open(gw: &Wsgate, n: usize) -> Vec<(String, Ws)> {
    let mut out = Vec::with_capacity(n);
    for chunk in 0..n.div_ceil(50) {
        let batch = (0..50.min(n - chunk * 50)).map(|_| async {
            let mut ws = ws_connect(&gw.ws_url("/chat")).await.expect("connect");
            (whoami(&mut ws).await, ws)
        });
        out.extend(futures_util::future::join_all(batch).await);
    }
    out
}

/// Connections per backend name.
pub fn counts(conns: &[(String, Ws)]) -> HashMap<String, usize> {
    let mut c = HashMap::new();
    for (name, _) in conns {
        *c.entry(name.clone()).or_default() += 1;
    }
    c
}

/// Each of three backends holds the mean number of connections, within 10%.
pub fn assert_within_ten_percent(c: &HashMap<String, usize>, total: usize) {
    let mean = total as f64 / 3.0;
    assert_eq!(c.len(), 3, "{c:?}");
    for (name, n) in c {
        assert!(
            (*n as f64 - mean).abs() <= mean * 0.1,
            "{name} has {n} of {total}: {c:?}"
        );
    }
}

/// GET `/whoami` with an optional cookie: (backend name, `Set-Cookie` if any).
pub async fn get_with_cookie(gw: &Wsgate, cookie: Option<&str>) -> (String, Option<String>) {
    let mut req = http::Request::get("/whoami").header("host", "chat.example.com");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let (status, body, headers) = http_request(&gw.http.to_string(), req).await.expect("GET");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let set = headers
        .get("set-cookie")
        .map(|h| h.to_str().expect("ascii").to_string());
    (v["backend"].as_str().expect("backend").to_string(), set)
}

/// A loopback address where connects are refused, and stay refused: the port is held by a
/// bound socket that never listens, so no other process can take it during the test.
pub fn refusing_address() -> (TcpSocket, std::net::SocketAddr) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    (socket, addr)
}
