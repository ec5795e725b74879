//! A light WebSocket echo server for benchmarks: one thread, the upgrade answered from the
//! request's key, then every data frame echoed back unmasked from one buffer per read.
//! Pings get pongs; a close frame is answered and the connection closed (server first).

use std::net::SocketAddr;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::wire;

/// Serves on `addr` until killed.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(pair) => pair,
            Err(_) => {
                // Out of descriptors: let some connections end first.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::task::spawn_local(async move {
            let _ = connection(stream).await;
        });
    }
}

async fn connection(mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let head = loop {
        if buf.len() > 16 * 1024 {
            bail!("request head too large");
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        if let Some(n) = wire::head_len(&buf) {
            break n;
        }
    };
    let Some(key) = header_value(&buf[..head], "sec-websocket-key") else {
        stream
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
        return Ok(());
    };
    let accept = derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    stream.write_all(response.as_bytes()).await?;
    buf.drain(..head);
    echo(stream, buf).await
}

/// Echoes frames until the peer closes.
async fn echo(mut stream: TcpStream, mut buf: Vec<u8>) -> anyhow::Result<()> {
    let mut have = buf.len();
    buf.resize(buf.len().max(4096), 0);
    let mut out = Vec::with_capacity(4096);
    loop {
        let mut at = 0;
        let mut closing = false;
        while let Some(h) = wire::parse_header(&buf[at..have]) {
            if at + h.total() > have {
                break;
            }
            let payload = &mut buf[at + h.len..at + h.total()];
            if let Some(mask) = h.mask {
                wire::unmask(payload, mask);
            }
            let first = match h.opcode() {
                wire::OP_PONG => None,
                wire::OP_PING => Some(0x80 | wire::OP_PONG),
                wire::OP_CLOSE => {
                    closing = true;
                    Some(h.first)
                }
                // Data or continuation: same FIN and opcode, unmasked.
                _ => Some(h.first),
            };
            if let Some(first) = first {
                wire::put_header(&mut out, first, payload.len(), None);
                out.extend_from_slice(payload);
            }
            at += h.total();
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if closing {
            return Ok(());
        }
        buf.copy_within(at..have, 0);
        have -= at;
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = stream.read(&mut buf[have..]).await.context("read")?;
        if n == 0 {
            return Ok(());
        }
        have += n;
    }
}

/// The value of header `name` (lower case) in a request head.
fn header_value<'a>(head: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(head)
        .ok()?
        .split("\r\n")
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
}
