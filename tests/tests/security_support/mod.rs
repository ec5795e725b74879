//! Shared helpers of the security tests: tickets minted by Node's `jsonwebtoken` and
//! handshakes with chosen headers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Error};
use wsgate_tests::client::{IO_TIMEOUT, Ws, next_data, send_msg};
use wsgate_tests::process::output_within;
use wsgate_tests::wait::within;

/// Limit of one `node ticket.js` run (minting a JWT or a key pair).
const NODE_TIMEOUT: Duration = Duration::from_secs(30);

/// An HS256 key the tests share (32 bytes).
pub const HS_KEY: &str = "wsgate-test-key-0123456789abcdef";

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Writes `key` to `path` and returns the path as a string.
pub fn write_key(path: PathBuf, key: &str) -> String {
    std::fs::write(&path, key).expect("write key");
    path.display().to_string()
}

/// Mints a JWT with Node's `jsonwebtoken` (`alg` HS256/RS256/ES256, key file, claims).
pub fn mint(alg: &str, key_file: &str, claims: serde_json::Value, kid: Option<&str>) -> String {
    let mut cmd = Command::new("node");
    cmd.arg(node_dir().join("ticket.js"))
        .args(["mint", alg, key_file, &claims.to_string()]);
    if let Some(k) = kid {
        cmd.arg(k);
    }
    let out = output_within(
        &mut cmd,
        "node ticket.js mint (bash scripts/install-test-deps.sh)",
        NODE_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8 token")
}

/// Generates an RS256 or ES256 key pair into `dir` (private.pem, public.pem, jwks.json).
pub fn keys(alg: &str, dir: &Path) {
    let out = output_within(
        Command::new("node")
            .arg(node_dir().join("ticket.js"))
            .args(["keys", alg])
            .arg(dir),
        "node ticket.js keys",
        NODE_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A unique `jti`.
pub fn jti() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "t{}-{}-{}",
        std::process::id(),
        now(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Opens a WebSocket to `url` with extra request headers (within [`IO_TIMEOUT`]).
/// `Err(status, body)` if refused.
pub async fn ws_with(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<(Ws, HeaderMap), (u16, String)> {
    let mut req = url.into_client_request().expect("request");
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            HeaderValue::from_str(v).expect("value"),
        );
    }
    match within(IO_TIMEOUT, url, tokio_tungstenite::connect_async(req)).await {
        Ok((ws, resp)) => Ok((ws, resp.headers().clone())),
        Err(Error::Http(resp)) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((resp.status().as_u16(), body))
        }
        Err(e) => Err((0, e.to_string())),
    }
}

/// Status of a refused handshake (panics if it was accepted).
pub async fn refused(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    match ws_with(url, headers).await {
        Ok(_) => panic!("{url} was accepted"),
        Err(e) => e,
    }
}

/// Sends `text` and expects it echoed.
pub async fn echo(ws: &mut Ws, text: &str) {
    send_msg(ws, tungstenite::Message::text(text)).await;
    assert_eq!(next_data(ws).await, tungstenite::Message::text(text));
}

/// Sends a WebSocket handshake by hand on `stream` and returns the response head.
pub async fn raw_handshake(
    stream: &mut tokio::net::TcpStream,
    path: &str,
    headers: &[(&str, &str)],
) -> String {
    use tokio::io::AsyncWriteExt;
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    within(
        IO_TIMEOUT,
        "writing the request",
        stream.write_all(req.as_bytes()),
    )
    .await
    .expect("write");
    // A reset counts as the end: a dropped connection has no response.
    wsgate_tests::raw::read_head(stream).await
}

/// The request headers of the backend's last handshake.
pub fn last_handshake(backend: &wsgate_tests::backend::Backend) -> (String, HeaderMap) {
    backend
        .seen()
        .into_iter()
        .rev()
        .find_map(|s| match s {
            wsgate_tests::backend::Seen::Handshake(p, h) => Some((p, h)),
            _ => None,
        })
        .expect("the backend saw a handshake")
}
