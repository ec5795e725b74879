//! A raw WebSocket client for inputs no well-behaved library sends: hand-written handshakes
//! and frames (unmasked, reserved bits, oversized pings), and the server's frames read back
//! without judging them. Every read is bounded by [`IO_TIMEOUT`].

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wait::{IO_TIMEOUT, within};

/// Connects to `addr` and sends a WebSocket handshake for `path` with `extra` header lines
/// (`Host: chat.test` unless `extra` names a Host); returns the stream and the response head
/// (empty when the connection ended first).
pub async fn upgrade(addr: SocketAddr, path: &str, extra: &[(&str, &str)]) -> (TcpStream, String) {
    let mut tcp = within(IO_TIMEOUT, "connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    let own_host = extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("host"));
    let host = if own_host { "" } else { "Host: chat.test\r\n" };
    let mut req = format!(
        "GET {path} HTTP/1.1\r\n{host}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    send(&mut tcp, req.as_bytes()).await;
    let head = read_head(&mut tcp).await;
    (tcp, head)
}

/// Sends `bytes`, bounded; a peer that already closed is not an error here.
pub async fn send(tcp: &mut TcpStream, bytes: &[u8]) {
    let _ = within(IO_TIMEOUT, "writing", tcp.write_all(bytes)).await;
}

/// Reads a response head byte by byte (nothing after it is consumed).
pub async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = within(IO_TIMEOUT, "the response head", tcp.read(&mut byte))
            .await
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A frame: first byte `b0` (FIN, RSV, opcode) and `payload`, masked when `masked`.
pub fn frame(b0: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![b0];
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let key = [0x37, 0xFA, 0x21, 0x3D];
    if masked {
        out.extend_from_slice(&key);
    }
    out.extend(
        payload
            .iter()
            .enumerate()
            .map(|(i, b)| if masked { b ^ key[i & 3] } else { *b }),
    );
    out
}

/// Reads server frames until a close frame arrives; returns its code and reason, or `None`
/// when the connection ended (or stayed silent) without one.
pub async fn read_close(tcp: &mut TcpStream) -> Option<(u16, String)> {
    let mut buf = Vec::new();
    loop {
        if let Some(close) = close_in(&mut buf) {
            return close;
        }
        let mut chunk = [0u8; 4096];
        let n = within(IO_TIMEOUT, "a close frame", tcp.read(&mut chunk))
            .await
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Takes whole frames off the front of `buf`: `Some(close)` once a close frame is complete
/// (`Some(None)` for an empty close payload), `None` while more bytes are needed.
fn close_in(buf: &mut Vec<u8>) -> Option<Option<(u16, String)>> {
    loop {
        if buf.len() < 2 {
            return None;
        }
        let (len, at): (usize, usize) = match buf[1] & 0x7F {
            126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 if buf.len() >= 10 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX),
                    10,
                )
            }
            126 | 127 => return None,
            n => (usize::from(n), 2),
        };
        if buf.len() < at.saturating_add(len) {
            return None;
        }
        let opcode = buf[0] & 0x0F;
        let payload: Vec<u8> = buf.drain(..at + len).skip(at).collect();
        if opcode == 0x8 {
            return Some(match payload.as_slice() {
                [a, b, reason @ ..] => Some((
                    u16::from_be_bytes([*a, *b]),
                    String::from_utf8_lossy(reason).into_owned(),
                )),
                _ => None,
            });
        }
    }
}

/// Sends `request` (a whole HTTP/1.1 request, written by hand) on a new connection and
/// returns the response status (0 when the connection ended without a response head).
pub async fn http_status(addr: SocketAddr, request: &str) -> u16 {
    let mut tcp = within(IO_TIMEOUT, "connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    send(&mut tcp, request.as_bytes()).await;
    status_of(&read_head(&mut tcp).await)
}

/// The status code of a response head, or 0.
pub fn status_of(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
