//! A real backend: HTTP/1.1 (hyper) that echoes requests as JSON and accepts WebSocket
//! upgrades, echoing every message. It records what it saw so tests can check what reached
//! the application.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// Something the backend observed.
#[derive(Debug, Clone)]
pub enum Seen {
    /// An HTTP request (method, path with query, headers).
    Request(String, String, HeaderMap),
    /// A WebSocket handshake's request headers and path.
    Handshake(String, HeaderMap),
    /// A WebSocket message (pings and pongs included, as tungstenite surfaces them).
    Message(Message),
}

/// A running backend.
pub struct Backend {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Name it answers `whoami` with.
    pub name: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Backend {
    /// Starts a backend on 127.0.0.1 with an OS-chosen port.
    pub async fn start(name: &str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind backend");
        Self::serve(listener, name)
    }

    /// Serves on an already bound listener, recording everything.
    pub fn serve(listener: TcpListener, name: &str) -> Backend {
        Self::serve_with(listener, name, true)
    }

    /// Serves on an already bound listener; `record_messages` off keeps load runs lean.
    pub fn serve_with(listener: TcpListener, name: &str, record_messages: bool) -> Backend {
        let addr = listener.local_addr().expect("backend addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, n) = (seen.clone(), name.to_string());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (s, n) = (s.clone(), n.clone());
                tokio::spawn(async move {
                    let svc =
                        service_fn(move |req| handle(req, s.clone(), n.clone(), record_messages));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Backend {
            addr,
            name: name.to_string(),
            seen,
            task,
        }
    }

    /// Everything observed so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen lock").clone()
    }

    /// Number of WebSocket handshakes received.
    pub fn handshakes(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| matches!(s, Seen::Handshake(..)))
            .count()
    }

    /// Number of HTTP requests and handshakes received.
    pub fn requests(&self) -> usize {
        self.seen().len()
            - self
                .seen()
                .iter()
                .filter(|s| matches!(s, Seen::Message(_)))
                .count()
    }

    /// Stops accepting (open connections keep running until their peers close).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)).map_err(|n| match n {}).boxed());
    *r.status_mut() = status;
    r
}

/// A browser page that opens a WebSocket back to the host it was served from (`wss://` when
/// served over https), sends `whoami` and writes the answer into `#out`.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>wsgate check</title></head>
<body><div id="out">pending</div>
<script>
  const out = document.getElementById('out');
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const ws = new WebSocket(scheme + location.host + '/echo');
  ws.onopen = () => ws.send('whoami');
  ws.onmessage = (e) => { out.textContent = 'ECHO ' + scheme + ' ' + e.data; ws.close(); };
  ws.onerror = () => { out.textContent = 'WS ERROR'; };
</script></body></html>
"#;

fn page() -> Response<Body> {
    let mut r = text(StatusCode::OK, PAGE.to_string());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/html; charset=utf-8".parse().expect("hv"),
    );
    r
}

async fn handle(
    mut req: Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    name: String,
    record_messages: bool,
) -> Result<Response<Body>, Infallible> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let is_ws = req
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !is_ws {
        seen.lock().expect("lock").push(Seen::Request(
            req.method().to_string(),
            path.clone(),
            req.headers().clone(),
        ));
        if path == "/page.html" {
            return Ok(page());
        }
        let method = req.method().to_string();
        let headers: serde_json::Map<String, serde_json::Value> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    serde_json::Value::from(v.to_str().unwrap_or("")),
                )
            })
            .collect();
        let body = req
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let json = serde_json::json!({
            "backend": name, "method": method, "path": path, "headers": headers,
            "body": String::from_utf8_lossy(&body),
        });
        return Ok(text(StatusCode::OK, json.to_string()));
    }
    seen.lock()
        .expect("lock")
        .push(Seen::Handshake(path.clone(), req.headers().clone()));
    if path.starts_with("/refuse") {
        return Ok(text(StatusCode::FORBIDDEN, "backend says no\n".into()));
    }
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return Ok(text(StatusCode::BAD_REQUEST, "no key\n".into()));
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(64 << 20);
        config.max_frame_size = Some(64 << 20);
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        while let Some(Ok(msg)) = ws.next().await {
            if record_messages {
                seen.lock().expect("lock").push(Seen::Message(msg.clone()));
            }
            let reply = match msg {
                Message::Text(t) if t.as_str() == "whoami" => Message::text(name.clone()),
                Message::Text(_) | Message::Binary(_) => msg,
                Message::Close(_) => continue,
                _ => continue,
            };
            if ws.send(reply).await.is_err() {
                break;
            }
        }
    });
    let mut resp = text(StatusCode::SWITCHING_PROTOCOLS, String::new());
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, "websocket".parse().expect("hv"));
    h.insert(header::CONNECTION, "Upgrade".parse().expect("hv"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept.parse().expect("hv"));
    Ok(resp)
}
