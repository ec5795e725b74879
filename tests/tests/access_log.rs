//! The access log of the real binary, read field by field from its JSON lines: one line per
//! HTTP request and per WebSocket at close, the client resolved through a trusted proxy,
//! request ids kept or generated and forwarded, `traceparent` untouched, tickets and
//! configured parameters and headers redacted, TLS facts, and per-route off / sampling.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use serde_json::Value;
use support::certs::{Alg, Ca};
use support::{tls_route, write_pair};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{drain, http_request, next_data, send_msg, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::raw;
use wsgate_tests::tls::{Versions, client_config, wss_connect};
use wsgate_tests::wsgate::{Scratch, Wsgate};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const SECRETS: [&str; 5] = ["SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"];

fn config(backend: std::net::SocketAddr, certs: &std::path::Path) -> String {
    let dead = "127.0.0.1:9"; // discard port: nothing listens there on loopback
    let plain = |name: &str, host: &str, extra: &str, rules: &str| {
        format!(
            "---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: {name}}}\nspec:\n  hostnames: [{host}]\n  rules:\n{rules}{extra}"
        )
    };
    let to = |path: &str, addr: &str| {
        format!(
            "    - path: {{type: PathPrefix, value: {path}}}\n      backend: {{addresses: [\"{addr}\"]}}\n"
        )
    };
    let live = backend.to_string();
    [
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {name: proxy}\nspec:\n  trustedProxies: [\"127.0.0.1/32\"]\n  accessLog:\n    redactQueryParams: [token]\n    headers: [authorization, x-tenant, x-secret]\n    redactHeaders: [x-secret]\n".to_string(),
        // Served in clear as well (no redirect), so the plain-HTTP line can be checked.
        tls_route(
            "chat",
            &["chat.example.test"],
            backend,
            Some(certs),
            ", redirectHttp: false",
            "",
        ),
        plain("quiet", "quiet.example.test", "  accessLog: {enabled: false}\n", &to("/", &live)),
        plain(
            "sampled",
            "sampled.example.test",
            "  accessLog: {samplePercent: 0}\n",
            &(to("/ok", &live) + &to("/dead", dead)),
        ),
    ]
    .concat()
}

/// The access-log lines so far, as their JSON `fields`.
fn access_lines(gw: &Wsgate) -> Vec<Value> {
    gw.log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "wsgate::access")
        .map(|v| v["fields"].clone())
        .collect()
}

/// Waits for the access-log line whose `path` starts with `path` and `host` is `host`.
async fn line_for(gw: &Wsgate, host: &str, path: &str) -> Value {
    let found = wsgate_tests::wait::eventually(wsgate_tests::wait::SETTLE_TIMEOUT, || async {
        access_lines(gw)
            .iter()
            .any(|l| l["host"] == host && l["path"].as_str().is_some_and(|p| p.starts_with(path)))
    })
    .await;
    assert!(found, "no access-log line for {host}{path}:\n{}", gw.log());
    access_lines(gw)
        .into_iter()
        .find(|l| l["host"] == host && l["path"].as_str().is_some_and(|p| p.starts_with(path)))
        .expect("line")
}

async fn get(gw: &Wsgate, host: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = Request::get(path).header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::new())).expect("request");
    let (status, body, _) = http_request(&gw.http.to_string(), req).await.expect("http");
    (status, body)
}

#[e2e]
async fn access_log_lines_carry_every_field_and_redact_secrets() {
    let root = Ca::root("wsgate access-log root");
    let leaf = root.leaf(&["chat.example.test"], Alg::Ecdsa);
    let dir = Scratch::new("access-log");
    let certs = write_pair(&dir.path("certs"), &leaf);
    let backend = Backend::start("b1").await;
    let gw_routes = config(backend.addr, &certs);
    let gw = Wsgate::launch_with(
        &gw_routes,
        &["--https-listen", "127.0.0.1:0", "--log-format", "json"],
    )
    .await;
    gw.wait_ready().await;
    let https = gw.https.expect("https address");

    // 1. Plain HTTP through a trusted proxy (127.0.0.1) that names the client and an id.
    let (status, body) = get(
        &gw,
        "chat.example.test",
        "/poll?ticket=SECRET1&token=SECRET2&room=1",
        &[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-request-id", "edge-1"),
            ("traceparent", TRACEPARENT),
            ("user-agent", "access-test/1"),
            ("authorization", "Bearer SECRET3"),
            ("x-tenant", "acme"),
            ("x-secret", "SECRET4"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let seen = backend.seen();
    let Some(Seen::Request(_, _, headers)) = seen.last() else {
        panic!("the backend saw no request: {seen:?}");
    };
    assert_eq!(
        headers["x-request-id"], "edge-1",
        "a trusted peer's id is kept"
    );
    assert_eq!(
        headers["traceparent"], TRACEPARENT,
        "traceparent passes untouched"
    );
    let line = line_for(&gw, "chat.example.test", "/poll").await;
    assert_eq!(line["kind"], "http");
    assert_eq!(line["message"], "request");
    assert_eq!(line["request_id"], "edge-1");
    assert_eq!(line["client"], "203.0.113.7");
    assert_eq!(line["method"], "GET");
    assert_eq!(
        line["path"],
        "/poll?ticket=[redacted]&token=[redacted]&room=1"
    );
    assert_eq!(line["status"], 200);
    assert_eq!(line["route"], "default/chat");
    assert_eq!(line["endpoint"], backend.addr.to_string());
    assert_eq!(line["bytes_in"], 0);
    assert_eq!(line["bytes_out"], body.len() as u64);
    assert_eq!(line["user_agent"], "access-test/1");
    assert_eq!(
        line["headers"],
        "authorization=[redacted]; x-tenant=acme; x-secret=[redacted]"
    );
    assert!(line["duration_s"].as_f64().is_some_and(|d| d >= 0.0));
    assert!(line.get("tls_version").is_none(), "plaintext: {line}");

    // 2. Without an id, wsgate makes one and the backend gets the same.
    get(&gw, "chat.example.test", "/fresh", &[]).await;
    let line = line_for(&gw, "chat.example.test", "/fresh").await;
    let id = line["request_id"].as_str().expect("request id").to_string();
    assert_eq!(id.len(), 32, "{id}");
    let seen = backend.seen();
    let Some(Seen::Request(_, path, headers)) = seen.last() else {
        panic!("no request");
    };
    assert_eq!(path, "/fresh");
    assert_eq!(headers["x-request-id"], id.as_str());
    assert_eq!(
        line["client"], "127.0.0.1",
        "no X-Forwarded-For: the peer is the client"
    );

    // 3. A WebSocket over TLS, closed by the client with 4000: one line at close.
    let tls = client_config(&root.pem, Versions::Tls13);
    let mut ws = wss_connect(https, "chat.example.test", "/ws?ticket=SECRET5&room=2", tls)
        .await
        .expect("wss");
    for text in ["a", "bb"] {
        send_msg(&mut ws, Message::text(text)).await;
        assert_eq!(next_data(&mut ws).await, Message::text(text));
    }
    let frame = CloseFrame {
        code: CloseCode::from(4000),
        reason: "bye".into(),
    };
    send_msg(&mut ws, Message::Close(Some(frame))).await;
    drain(&mut ws).await;
    let line = line_for(&gw, "chat.example.test", "/ws").await;
    assert_eq!(line["kind"], "websocket");
    assert_eq!(line["message"], "websocket closed");
    assert_eq!(line["path"], "/ws?ticket=[redacted]&room=2");
    assert_eq!(line["status"], 101);
    assert_eq!(line["route"], "default/chat");
    assert_eq!(line["endpoint"], backend.addr.to_string());
    assert_eq!(line["messages_in"], 2);
    assert_eq!(line["messages_out"], 2);
    assert_eq!(line["close_code"], 4000);
    assert_eq!(line["close_side"], "client");
    assert_eq!(line["close_reason"], "client_close");
    assert_eq!(line["tls_version"], "TLSv1.3");
    assert_eq!(line["sni"], "chat.example.test");
    let metric = |dir: &str| {
        format!("wsgate_bytes_total{{direction=\"{dir}\",namespace=\"default\",route=\"chat\"}}")
    };
    let bytes_in = gw.metric(&metric("client_to_backend")).await;
    let bytes_out = gw.metric(&metric("backend_to_client")).await;
    assert_eq!(line["bytes_in"].as_f64(), Some(bytes_in), "{line}");
    assert_eq!(line["bytes_out"].as_f64(), Some(bytes_out), "{line}");
    let handshake = line["handshake_s"].as_f64().expect("handshake_s");
    let total = line["duration_s"].as_f64().expect("duration_s");
    assert!(handshake <= total, "{line}");

    // 4. Off and sampled routes: nothing logged for their 200s, a 502 still is; the 404 of an
    // unknown host is logged without a route.
    assert_eq!(get(&gw, "quiet.example.test", "/q", &[]).await.0, 200);
    assert_eq!(get(&gw, "sampled.example.test", "/ok", &[]).await.0, 200);
    assert_eq!(get(&gw, "sampled.example.test", "/dead", &[]).await.0, 502);
    assert_eq!(get(&gw, "nowhere.example.test", "/x", &[]).await.0, 404);
    let failed = line_for(&gw, "sampled.example.test", "/dead").await;
    assert_eq!(failed["status"], 502);
    assert_eq!(failed["route"], "default/sampled");
    let missing = line_for(&gw, "nowhere.example.test", "/x").await;
    assert_eq!(missing["status"], 404);
    assert!(missing.get("route").is_none(), "{missing}");
    let lines = access_lines(&gw);
    assert!(
        !lines.iter().any(|l| l["host"] == "quiet.example.test"),
        "the quiet route logs nothing"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l["host"] == "sampled.example.test" && l["status"] == 200),
        "0 % sampling logs no success"
    );

    // 5. No secret anywhere in the log.
    let log = gw.log();
    for secret in SECRETS {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}

/// A backend that accepts connections and never answers; counts what it accepted.
async fn silent_backend() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(tcp);
        }
    });
    (addr, accepted)
}

/// The one access-log line of `path`, waited for.
async fn only_line(gw: &Wsgate, path: &str) -> Value {
    let found = wsgate_tests::wait::eventually(wsgate_tests::wait::SETTLE_TIMEOUT, || async {
        access_lines(gw).iter().any(|l| l["path"] == path)
    })
    .await;
    assert!(found, "no access-log line for {path}:\n{}", gw.log());
    let lines: Vec<Value> = access_lines(gw)
        .into_iter()
        .filter(|l| l["path"] == path)
        .collect();
    assert_eq!(lines.len(), 1, "one line for {path}: {lines:#?}");
    lines.into_iter().next().expect("line")
}

#[e2e]
async fn upgrades_that_never_complete_get_one_line_with_status_and_reason() {
    let backend = Backend::start("b1").await;
    let (silent, accepted) = silent_backend().await;
    let dir = Scratch::new("access-unfinished");
    let key = dir.path("ticket.key");
    std::fs::write(&key, "access-log-first-message-ticket-key-0123456789").expect("key");
    let route = |name: &str, backend: std::net::SocketAddr, handshake: &str| {
        format!(
            "---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: {name}}}\nspec:\n  timeouts: {{handshake: {handshake}}}\n  rules:\n    - path: {{type: PathPrefix, value: /{name}}}\n      backend: {{addresses: [\"{backend}\"]}}\n"
        )
    };
    let routes = [
        route("refuse", backend.addr, "10s"),
        route("slow", silent, "1s"),
        route("hang", silent, "60s"),
        route("ok", backend.addr, "10s"),
        route("first", backend.addr, "10s").replace(
            "  rules:",
            &format!(
                "  auth:\n    ticket: {{keyFile: {}, from: [FirstMessage]}}\n  rules:",
                key.display()
            ),
        ),
    ]
    .concat();
    let gw = Wsgate::launch_with(&routes, &["--log-format", "json"]).await;
    gw.wait_ready().await;

    // The backend refuses the upgrade: its 403 reaches the client, and the line says so.
    let (_, head) = raw::upgrade(gw.http, "/refuse", &[]).await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let line = only_line(&gw, "/refuse").await;
    assert_eq!(line["kind"], "websocket");
    assert_eq!(line["status"], 403);
    assert_eq!(line["reason"], "backend_rejected");
    assert_eq!(line["route"], "default/refuse");
    assert_eq!(line["endpoint"], backend.addr.to_string());

    // The backend never answers: 504 after the route's handshake timeout.
    let (_, head) = raw::upgrade(gw.http, "/slow", &[]).await;
    assert!(head.starts_with("HTTP/1.1 504"), "{head}");
    let line = only_line(&gw, "/slow").await;
    assert_eq!(line["status"], 504);
    assert_eq!(line["reason"], "upstream_timeout");
    assert_eq!(line["endpoint"], silent.to_string());

    // The client goes away while wsgate waits for the backend's answer: 499.
    let before = accepted.load(Ordering::SeqCst);
    let mut tcp = tokio::net::TcpStream::connect(gw.http)
        .await
        .expect("connect");
    raw::send(
        &mut tcp,
        b"GET /hang HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    let reached = wsgate_tests::wait::eventually(wsgate_tests::wait::SETTLE_TIMEOUT, || async {
        accepted.load(Ordering::SeqCst) > before
    })
    .await;
    assert!(reached, "wsgate connected to the silent backend");
    drop(tcp);
    let line = only_line(&gw, "/hang").await;
    assert_eq!(line["kind"], "websocket");
    assert_eq!(line["status"], 499);
    assert_eq!(line["reason"], "client_closed");
    assert_eq!(line["route"], "default/hang");

    // A ticket expected as the first message that does not verify: wsgate answered 101
    // itself, so the line has that status and the ticket's reason.
    let mut ws = ws_connect(&gw.ws_url("/first"))
        .await
        .expect("101 from wsgate");
    send_msg(&mut ws, Message::text("not-a-ticket")).await;
    drain(&mut ws).await;
    let line = only_line(&gw, "/first").await;
    assert_eq!(line["status"], 101);
    let reason = line["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("ticket_"), "{line}");
    assert_eq!(line["route"], "default/first");

    // A WebSocket that completes: its line at close has no reason.
    let mut ws = ws_connect(&gw.ws_url("/ok")).await.expect("connect");
    send_msg(&mut ws, Message::Close(None)).await;
    drain(&mut ws).await;
    let line = only_line(&gw, "/ok").await;
    assert_eq!(line["status"], 101);
    assert!(line.get("reason").is_none(), "{line}");
}
