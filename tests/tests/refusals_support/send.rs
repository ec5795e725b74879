//! Sending one bad input and reading what came back, every step bounded.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wsgate_tests::raw;
use wsgate_tests::tls::{Versions, client_config, tls_connect};
use wsgate_tests::wait::{IO_TIMEOUT, within};

/// What wsgate answered.
#[derive(Debug, Default)]
pub struct Answer {
    /// Status of the HTTP answer (0: none).
    pub status: u16,
    /// The response head.
    pub head: String,
    /// The response body (as far as `Content-Length` says).
    pub body: String,
    /// Code of the close frame, for inputs sent after a `101`.
    pub close: Option<u16>,
}

impl Answer {
    /// The value of response header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Connects to `addr` within the I/O limit.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    within(IO_TIMEOUT, "connect", TcpStream::connect(addr))
        .await
        .expect("connect")
}

/// Sends `request` on a new connection and reads the answer.
pub async fn http(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut tcp = connect(addr).await;
    raw::send(&mut tcp, request).await;
    answer(&mut tcp).await
}

/// Reads a response head and its body.
pub async fn answer<S: AsyncRead + Unpin>(s: &mut S) -> Answer {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match within(IO_TIMEOUT, "a response head", s.read(&mut byte)).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let mut a = Answer {
        head: String::from_utf8_lossy(&head).into_owned(),
        ..Answer::default()
    };
    a.status = raw::status_of(&a.head);
    let len: usize = a
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(64 * 1024)];
    if within(IO_TIMEOUT, "a response body", s.read_exact(&mut body))
        .await
        .is_ok()
    {
        a.body = String::from_utf8_lossy(&body).into_owned();
    }
    a
}

/// Sends `request` over TLS with `sni`, trusting `ca`, and reads the answer.
pub async fn https(addr: SocketAddr, ca: &str, sni: &str, request: &[u8]) -> Answer {
    let mut tls = tls_connect(addr, sni, client_config(ca, Versions::Both))
        .await
        .expect("TLS handshake");
    write(&mut tls, request).await;
    answer(&mut tls).await
}

async fn write<S: AsyncWrite + Unpin>(s: &mut S, bytes: &[u8]) {
    let _ = within(IO_TIMEOUT, "writing", s.write_all(bytes)).await;
}

/// A WebSocket handshake for `host` and `path` with extra header lines.
pub fn upgrade(host: &str, path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Opens a WebSocket (`101` expected) and keeps it open.
pub async fn hold(addr: SocketAddr, host: &str) -> TcpStream {
    let mut tcp = connect(addr).await;
    raw::send(&mut tcp, upgrade(host, "/ws", "").as_bytes()).await;
    let head = raw::read_head(&mut tcp).await;
    assert!(
        head.starts_with("HTTP/1.1 101"),
        "holding a WebSocket: {head}"
    );
    tcp
}

/// Upgrades (`101` expected), sends `frames`, and reads the close frame wsgate sends.
pub async fn frames(addr: SocketAddr, request: &str, frames: &[u8]) -> Answer {
    let mut tcp = connect(addr).await;
    raw::send(&mut tcp, request.as_bytes()).await;
    let head = raw::read_head(&mut tcp).await;
    let status = raw::status_of(&head);
    if status != 101 {
        return Answer {
            status,
            head,
            ..Answer::default()
        };
    }
    raw::send(&mut tcp, frames).await;
    Answer {
        status,
        head,
        close: raw::read_close(&mut tcp).await.map(|(code, _)| code),
        ..Answer::default()
    }
}

/// Sends the start of a head and waits (within the I/O limit) for the answer.
pub async fn slow(addr: SocketAddr, partial: &[u8]) -> Answer {
    let mut tcp = connect(addr).await;
    raw::send(&mut tcp, partial).await;
    // The answer comes when wsgate's head deadline passes, well within the read limit.
    answer(&mut tcp).await
}
