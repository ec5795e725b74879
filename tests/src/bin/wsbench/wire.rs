//! WebSocket bytes on the wire, built once and parsed without copying: the upgrade request
//! and its `101`, masked client frames, and a frame-header parser for either direction.

/// The fixed handshake key every wsbench client sends (RFC 6455's own example).
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// `Sec-WebSocket-Accept` for [`KEY`].
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The mask every client frame is built with (pre-masked once, sent many times).
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// The upgrade request for `path` on `host` (with its port).
pub fn upgrade_request(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// Length of the response head in `buf` (through the blank line), once it is complete.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Checks a complete response head: `101` with the accept value for [`KEY`].
pub fn check_upgrade_response(head: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(head);
    let status = text.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(format!("no upgrade: {status}"));
    }
    if !text.contains(ACCEPT) {
        return Err("101 without the right Sec-WebSocket-Accept".into());
    }
    Ok(())
}

/// One frame (FIN set) with `payload`, masked with [`MASK`] when `masked`.
pub fn frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    let mask = masked.then_some(MASK);
    put_header(&mut out, 0x80 | opcode, payload.len(), mask);
    match mask {
        Some(m) => out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4])),
        None => out.extend_from_slice(payload),
    }
    out
}

/// Appends a frame header: `first` is the FIN/opcode byte.
pub fn put_header(out: &mut Vec<u8>, first: u8, len: usize, mask: Option<[u8; 4]>) {
    out.push(first);
    let bit = if mask.is_some() { 0x80 } else { 0 };
    match len {
        n if n < 126 => out.push(bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if let Some(m) = mask {
        out.extend_from_slice(&m);
    }
}

/// A frame header parsed from the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// FIN and opcode byte as sent.
    pub first: u8,
    /// Mask key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Header bytes (2 to 14).
    pub len: usize,
    /// Payload bytes that follow the header.
    pub payload: usize,
}

impl Header {
    /// The opcode.
    pub fn opcode(&self) -> u8 {
        self.first & 0x0F
    }

    /// Header plus payload.
    pub fn total(&self) -> usize {
        self.len + self.payload
    }
}

/// Parses the header at the start of `buf`; `None` until it is complete.
pub fn parse_header(buf: &[u8]) -> Option<Header> {
    let (&first, rest) = buf.split_first()?;
    let (&second, rest) = rest.split_first()?;
    let (payload, mut len) = match second & 0x7F {
        126 => (
            u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(rest.get(..8)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask = if second & 0x80 != 0 {
        let key: [u8; 4] = buf.get(len..len + 4)?.try_into().ok()?;
        len += 4;
        Some(key)
    } else {
        None
    };
    Some(Header {
        first,
        mask,
        len,
        payload,
    })
}

/// XORs `data` with `mask`, as if it started at offset 0 of a payload.
pub fn unmask(data: &mut [u8], mask: [u8; 4]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_the_parser_at_every_length_class() {
        for len in [0usize, 1, 64, 125, 126, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for masked in [false, true] {
                let f = frame(OP_BINARY, &payload, masked);
                let h = parse_header(&f).expect("complete header");
                assert_eq!(h.total(), f.len());
                assert_eq!(h.opcode(), OP_BINARY);
                let mut body = f[h.len..].to_vec();
                if let Some(m) = h.mask {
                    unmask(&mut body, m);
                }
                assert_eq!(body, payload);
                assert!(parse_header(&f[..h.len - 1]).is_none());
            }
        }
    }

    #[test]
    fn the_upgrade_response_must_carry_101_and_the_accept_for_the_key() {
        let good =
            format!("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n");
        assert_eq!(head_len(good.as_bytes()), Some(good.len()));
        assert!(check_upgrade_response(good.as_bytes()).is_ok());
        assert!(check_upgrade_response(b"HTTP/1.1 403 Forbidden\r\n\r\n").is_err());
        assert!(
            check_upgrade_response(b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: x\r\n\r\n").is_err()
        );
        let derived = tokio_tungstenite::tungstenite::handshake::derive_accept_key(KEY.as_bytes());
        assert_eq!(derived, ACCEPT);
    }
}
