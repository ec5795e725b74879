//! The first request head of a connection, read with a deadline before hyper sees the
//! connection: a client that trickles its headers (slowloris) gets `408` when time is up,
//! and holds nothing but its own socket meanwhile.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wsgate_core::table::security::HeadLimits;

/// How reading the first head ended.
#[derive(Debug)]
pub enum FirstHead {
    /// Bytes read so far: a whole head (or more than `max_bytes`, left for the HTTP parser to
    /// refuse with 431), possibly followed by more.
    Ready(Bytes),
    /// The client closed or failed before sending a head.
    Gone,
    /// The deadline passed; a 408 was sent.
    TimedOut,
}

/// Reads until the end of the first request head, `max_bytes`, or the deadline.
pub async fn read_first_head<S>(stream: &mut S, limits: &HeadLimits) -> FirstHead
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = BytesMut::with_capacity(1024);
    let read = async {
        loop {
            let from = buf.len().saturating_sub(3);
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {}
            }
            if buf.len() > limits.max_bytes || head_complete(&buf, from) {
                return true;
            }
        }
    };
    match tokio::time::timeout(limits.read_timeout, read).await {
        Ok(true) => FirstHead::Ready(buf.freeze()),
        Ok(false) => FirstHead::Gone,
        Err(_) => {
            let body = format!(
                "408 Request Timeout: the request head did not arrive within {:?}\n",
                limits.read_timeout
            );
            let resp = format!(
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            // The client is being dropped anyway; a failed write changes nothing.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                let _ = stream.write_all(resp.as_bytes()).await;
                let _ = stream.shutdown().await;
            })
            .await;
            FirstHead::TimedOut
        }
    }
}

/// True if `buf` holds `\r\n\r\n` at or after `from` (also accepting bare `\n\n`).
fn head_complete(buf: &[u8], from: usize) -> bool {
    let tail = &buf[from..];
    tail.windows(4).any(|w| w == b"\r\n\r\n") || tail.windows(2).any(|w| w == b"\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_a_complete_head_with_what_follows() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nextra")
            .await
            .expect("write");
        match read_first_head(&mut server, &HeadLimits::default()).await {
            FirstHead::Ready(b) => assert!(b.starts_with(b"GET / HTTP/1.1")),
            other => panic!("expected a head, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn answers_408_when_the_head_is_too_slow() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        client
            .write_all(b"GET / HTTP/1.1\r\nHo")
            .await
            .expect("write");
        let limits = HeadLimits {
            read_timeout: Duration::from_millis(50),
            ..HeadLimits::default()
        };
        assert!(matches!(
            read_first_head(&mut server, &limits).await,
            FirstHead::TimedOut
        ));
        drop(server);
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.expect("read");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}
