//! Reading a client's first message before any tunnel exists (the FirstMessage ticket
//! placement): frames are parsed with [`crate::frame::parse_header`] until one whole data
//! message has arrived; pings and pongs are skipped. Every length comes from the peer, so
//! each is checked before it is used.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::frame::{
    Header, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, apply_mask,
    close_payload, encode_control, header_len, parse_header,
};

/// The first data message of a client, as read from the wire.
#[derive(Debug)]
pub struct FirstMessage {
    /// Unmasked payload of the message.
    pub payload: Vec<u8>,
    /// The frames exactly as received (masked).
    pub raw: Bytes,
    /// Bytes received after the message.
    pub rest: Bytes,
}

/// Why no first message could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FirstMessageError {
    /// Reading failed.
    #[error("the connection failed")]
    Io,
    /// The client closed the TCP connection first.
    #[error("the connection closed before a ticket arrived")]
    Eof,
    /// The client sent a close frame first.
    #[error("the client closed before sending a ticket")]
    Closed,
    /// A frame without a mask (a client must mask, RFC 6455 5.1).
    #[error("client frames must be masked")]
    Unmasked,
    /// The message is longer than allowed.
    #[error("the ticket message is too large")]
    TooLarge,
    /// A reserved opcode.
    #[error("unknown opcode")]
    UnknownOpcode,
}

/// Reads frames from `s` until one whole data message of at most `max_payload` bytes has
/// arrived.
pub async fn read_first_message<S: AsyncRead + Unpin>(
    s: &mut S,
    max_payload: u64,
) -> Result<FirstMessage, FirstMessageError> {
    let mut buf = BytesMut::with_capacity(1024);
    let mut at = 0usize;
    let mut payload = Vec::new();
    loop {
        let header = loop {
            if let Some(h) = complete_header(&buf[at..])? {
                break h;
            }
            fill(s, &mut buf).await?;
        };
        let total = (payload.len() as u64).checked_add(header.len);
        if total.is_none_or(|t| t > max_payload) {
            return Err(FirstMessageError::TooLarge);
        }
        let len = usize::try_from(header.len).map_err(|_| FirstMessageError::TooLarge)?;
        let start = at + header.header_len;
        let end = start.checked_add(len).ok_or(FirstMessageError::TooLarge)?;
        while buf.len() < end {
            fill(s, &mut buf).await?;
        }
        at = end;
        match header.opcode {
            OP_CLOSE => return Err(FirstMessageError::Closed),
            OP_PING | OP_PONG => continue,
            OP_CONTINUATION | OP_TEXT | OP_BINARY => {
                let from = payload.len();
                payload.extend_from_slice(&buf[start..end]);
                if let Some(mask) = header.mask {
                    apply_mask(&mut payload[from..], mask);
                }
            }
            _ => return Err(FirstMessageError::UnknownOpcode),
        }
        if header.fin {
            let all = buf.freeze();
            return Ok(FirstMessage {
                payload,
                raw: all.slice(..at),
                rest: all.slice(at..),
            });
        }
    }
}

/// The frame header at the start of `b`, once all of it has arrived.
fn complete_header(b: &[u8]) -> Result<Option<Header>, FirstMessageError> {
    let Some(&b1) = b.get(1) else {
        return Ok(None);
    };
    if b1 & 0x80 == 0 {
        return Err(FirstMessageError::Unmasked);
    }
    let len = header_len(b1);
    Ok(b.get(..len).map(parse_header))
}

async fn fill<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut BytesMut,
) -> Result<(), FirstMessageError> {
    match s.read_buf(buf).await {
        Ok(0) => Err(FirstMessageError::Eof),
        Ok(_) => Ok(()),
        Err(_) => Err(FirstMessageError::Io),
    }
}

/// Sends a close frame (`code`, `reason`) and shuts the stream down, giving up after a
/// second: the client is being dropped anyway.
pub async fn close_with<S: AsyncWrite + Unpin>(s: &mut S, code: u16, reason: &str) {
    let mut frame = Vec::new();
    encode_control(&mut frame, OP_CLOSE, &close_payload(code, reason), None);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = s.write_all(&frame).await;
        let _ = s.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(opcode: u8, fin: bool, body: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut wire = vec![
            (if fin { 0x80 } else { 0 }) | opcode,
            0x80 | body.len() as u8,
        ];
        wire.extend_from_slice(&mask);
        let mut b = body.to_vec();
        apply_mask(&mut b, mask);
        wire.extend_from_slice(&b);
        wire
    }

    #[tokio::test]
    async fn reads_one_masked_message_and_keeps_the_rest() {
        let mut wire = masked(OP_PING, true, b"", [9, 9, 9, 9]);
        wire.extend(masked(OP_TEXT, false, b"tok.", [1, 2, 3, 4]));
        wire.extend(masked(OP_CONTINUATION, true, b"en.x", [5, 6, 7, 8]));
        wire.extend_from_slice(b"NEXT");
        let mut r: &[u8] = &wire;
        let m = read_first_message(&mut r, 1024).await.expect("message");
        assert_eq!(m.payload, b"tok.en.x");
        assert_eq!(&m.rest[..], b"NEXT");
        assert_eq!(m.raw.len(), wire.len() - 4);
    }

    #[tokio::test]
    async fn refuses_unmasked_oversized_closing_and_truncated_input() {
        let mut r: &[u8] = &[0x81, 0x01, b'x'];
        assert_eq!(
            read_first_message(&mut r, 1024).await.err(),
            Some(FirstMessageError::Unmasked)
        );
        let big = masked(OP_TEXT, true, &[b'a'; 100], [1, 1, 1, 1]);
        assert_eq!(
            read_first_message(&mut &big[..], 99).await.err(),
            Some(FirstMessageError::TooLarge)
        );
        let close = masked(OP_CLOSE, true, &[3, 232], [1, 1, 1, 1]);
        assert_eq!(
            read_first_message(&mut &close[..], 1024).await.err(),
            Some(FirstMessageError::Closed)
        );
        let cut = &masked(OP_TEXT, true, b"abcdef", [1, 1, 1, 1])[..8];
        assert_eq!(
            read_first_message(&mut &cut[..], 1024).await.err(),
            Some(FirstMessageError::Eof)
        );
    }

    #[tokio::test]
    async fn a_64_bit_length_near_the_maximum_is_refused_without_overflow() {
        let mut wire = vec![0x81, 0x80 | 127];
        wire.extend_from_slice(&u64::MAX.to_be_bytes());
        wire.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(
            read_first_message(&mut &wire[..], 16 * 1024).await.err(),
            Some(FirstMessageError::TooLarge)
        );
    }
}
