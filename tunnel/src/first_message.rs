//! Reading a client's first message before any tunnel exists (the FirstMessage ticket
//! placement): frames are parsed with [`crate::frame::parse_header`] until one whole data
//! message has arrived. This runs before authentication, so it keeps only what it must:
//! pings and pongs (at most 125 bytes, RFC 6455 5.5) are dropped as they are read, every
//! byte the client sends counts against a small cap, and every length comes from the peer,
//! so each is checked before it is used.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::frame::{
    Header, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, apply_mask,
    close_payload, encode_control, header_len, parse_header,
};
use crate::rules::Rules;

/// Bytes a client may send before its message is complete beyond the message's payload:
/// frame headers and the few pings or pongs it may interleave.
pub const PRE_AUTH_OVERHEAD: u64 = 4 * 1024;

/// The first data message of a client, as read from the wire.
#[derive(Debug)]
pub struct FirstMessage {
    /// Unmasked payload of the message.
    pub payload: Vec<u8>,
    /// The data frames of the message exactly as received (masked; pings left out).
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
    /// The message, or everything sent before it ended, is longer than allowed.
    #[error("the ticket message is too large")]
    TooLarge,
    /// A reserved opcode.
    #[error("unknown opcode")]
    UnknownOpcode,
    /// A frame RFC 6455 makes a server fail the connection for.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
}

impl FirstMessageError {
    /// The close code a client gets for a broken frame (1002), if this is one.
    pub fn protocol_close_code(&self) -> Option<u16> {
        matches!(self, Self::Protocol(_) | Self::UnknownOpcode).then_some(1002)
    }
}

/// Reads frames from `s` until one whole data message of at most `max_payload` bytes has
/// arrived; at most `max_payload` + [`PRE_AUTH_OVERHEAD`] bytes are taken from the client
/// before it does.
pub async fn read_first_message<S: AsyncRead + Unpin>(
    s: &mut S,
    max_payload: u64,
) -> Result<FirstMessage, FirstMessageError> {
    let cap = max_payload.saturating_add(PRE_AUTH_OVERHEAD);
    let mut buf = BytesMut::with_capacity(1024);
    let mut raw = BytesMut::new();
    let mut payload = Vec::new();
    let mut taken: u64 = 0;
    let mut in_message = false;
    loop {
        let header = loop {
            if let Some(h) = complete_header(&buf)? {
                break h;
            }
            fill(s, &mut buf).await?;
        };
        check_frame(&header, in_message)?;
        let frame_len = (header.header_len as u64)
            .checked_add(header.len)
            .ok_or(FirstMessageError::TooLarge)?;
        taken = taken
            .checked_add(frame_len)
            .filter(|t| *t <= cap)
            .ok_or(FirstMessageError::TooLarge)?;
        let data = header.opcode & 0x08 == 0;
        let total = (payload.len() as u64).checked_add(header.len);
        if data && total.is_none_or(|t| t > max_payload) {
            return Err(FirstMessageError::TooLarge);
        }
        let end = usize::try_from(frame_len).map_err(|_| FirstMessageError::TooLarge)?;
        while buf.len() < end {
            fill(s, &mut buf).await?;
        }
        let frame = buf.split_to(end);
        match header.opcode {
            OP_CLOSE => return Err(FirstMessageError::Closed),
            OP_PING | OP_PONG => continue,
            _ => {
                raw.extend_from_slice(&frame);
                let from = payload.len();
                payload.extend_from_slice(&frame[header.header_len..]);
                if let Some(mask) = header.mask {
                    apply_mask(&mut payload[from..], mask);
                }
            }
        }
        in_message = !header.fin;
        if header.fin {
            return Ok(FirstMessage {
                payload,
                raw: raw.freeze(),
                rest: buf.freeze(),
            });
        }
    }
}

/// The rules of RFC 6455 for a client's frame, before its payload is read: control frames
/// at most 125 bytes and never fragmented; no reserved bits (wsgate answered the handshake
/// without extensions); known opcodes; continuations only inside a message.
fn check_frame(h: &Header, in_message: bool) -> Result<(), FirstMessageError> {
    if matches!(h.opcode, OP_CLOSE | OP_PING | OP_PONG) {
        if h.len > 125 {
            return Err(FirstMessageError::Protocol(
                "control frame longer than 125 bytes",
            ));
        }
        if !h.fin {
            return Err(FirstMessageError::Protocol("fragmented control frame"));
        }
    }
    if !matches!(
        h.opcode,
        OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
    ) {
        return Err(FirstMessageError::UnknownOpcode);
    }
    Rules::CLIENT
        .check(h.rsv, h.opcode, h.mask.is_some(), in_message)
        .map_err(FirstMessageError::Protocol)
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
        assert_eq!(m.raw.len(), wire.len() - 4 - 6, "the ping is not kept");
    }

    /// A client that sends `frame` over and over, counting what was read from it.
    struct Repeat {
        frame: Vec<u8>,
        at: usize,
        read: u64,
    }

    impl AsyncRead for Repeat {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            while buf.remaining() > 0 {
                let at = self.at;
                let n = (self.frame.len() - at).min(buf.remaining());
                buf.put_slice(&self.frame[at..at + n]);
                self.at = (at + n) % self.frame.len();
                self.read += n as u64;
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn h1_first_message_ping_flood_is_bounded() {
        // Legal 125-byte pings, forever: the reader stops at the pre-auth cap.
        let mut flood = Repeat {
            frame: masked(OP_PING, true, &[b'p'; 125], [1, 2, 3, 4]),
            at: 0,
            read: 0,
        };
        let got = read_first_message(&mut flood, 16 * 1024).await;
        assert_eq!(got.err(), Some(FirstMessageError::TooLarge));
        let cap = 16 * 1024 + PRE_AUTH_OVERHEAD;
        assert!(flood.read <= cap + 2048, "read {} bytes", flood.read);
        // A 16 000-byte "ping" (the audit's probe) is refused at its header.
        let mut big = vec![0x89, 0x80 | 126];
        big.extend_from_slice(&16_000u16.to_be_bytes());
        big.extend_from_slice(&[1, 2, 3, 4]);
        let mut huge = Repeat {
            frame: big,
            at: 0,
            read: 0,
        };
        let got = read_first_message(&mut huge, 16 * 1024).await;
        assert!(
            matches!(got, Err(FirstMessageError::Protocol(_))),
            "{got:?}"
        );
        assert!(huge.read <= 2048, "read {} bytes", huge.read);
        // Empty continuation frames forever: headers count against the cap too.
        let mut empties = masked(OP_TEXT, false, b"", [1, 1, 1, 1]);
        empties.extend(masked(OP_CONTINUATION, false, b"", [1, 1, 1, 1]));
        let mut r = Repeat {
            frame: empties,
            at: 0,
            read: 0,
        };
        let got = read_first_message(&mut r, 16 * 1024).await;
        assert!(got.is_err(), "{got:?}");
        assert!(r.read <= cap + 2048, "read {} bytes", r.read);
    }

    #[tokio::test]
    async fn m1_first_message_length_wrap_is_refused_without_panic() {
        // The audit's probe: a 10-byte text fragment, then a continuation of 2^64-5 bytes.
        let mut wire = masked(OP_TEXT, false, b"0123456789", [1, 2, 3, 4]);
        wire.extend_from_slice(&[0x80, 0x80 | 127]);
        wire.extend_from_slice(&(u64::MAX - 4).to_be_bytes());
        wire.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(
            read_first_message(&mut &wire[..], 16 * 1024).await.err(),
            Some(FirstMessageError::TooLarge)
        );
    }

    #[tokio::test]
    async fn l12_first_message_protocol_violations_close_with_1002() {
        let cases: [(&str, Vec<u8>); 4] = [
            (
                "orphan continuation",
                masked(OP_CONTINUATION, true, b"x", [1; 4]),
            ),
            ("RSV1 without an extension", {
                let mut f = masked(OP_TEXT, true, b"x", [1; 4]);
                f[0] |= 0x40;
                f
            }),
            ("reserved opcode", masked(0x3, true, b"x", [1; 4])),
            ("new message inside a message", {
                let mut f = masked(OP_TEXT, false, b"x", [1; 4]);
                f.extend(masked(OP_BINARY, true, b"y", [1; 4]));
                f
            }),
        ];
        for (what, wire) in cases {
            let err = read_first_message(&mut &wire[..], 1024).await.err();
            assert_eq!(
                err.and_then(|e| e.protocol_close_code()),
                Some(1002),
                "{what}: {err:?}"
            );
        }
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
