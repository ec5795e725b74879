//! What a client sends before HTTP: the PROXY protocol header and the first request head
//! (then the request line's path, normalised as routing does).

use std::net::SocketAddr;

use wsgate_core::path::normalize;
use wsgate_core::table::security::HeadLimits;
use wsgate_proxy::wire::{FirstHead, parse_v1, read_first_head, read_header};

use super::peer::{Peer, block_on, controls};

/// The head reader ends on a whole head or on `max_bytes`, never sooner, never on a timeout
/// (the stream ends); the path of a parsed head normalises idempotently to a clean path.
pub fn http_head(data: &[u8]) {
    let Some((selector, seed, bytes)) = controls(data) else {
        return;
    };
    let limits = HeadLimits {
        max_bytes: 64 + usize::from(selector) * 8,
        ..HeadLimits::default()
    };
    let mut peer = Peer::once(bytes, seed);
    match block_on(read_first_head(&mut peer, &limits)) {
        FirstHead::Ready(head) => {
            assert!(bytes.starts_with(&head), "the head is what was sent");
            assert!(
                head.len() > limits.max_bytes || ends_a_head(&head),
                "read stopped before a whole head or the limit"
            );
            parse(&head);
        }
        FirstHead::Gone => assert!(
            bytes.len() <= limits.max_bytes && !ends_a_head(bytes),
            "a whole head was sent but not returned"
        ),
        FirstHead::TimedOut => panic!("an in-memory stream cannot time out"),
    }
}

fn ends_a_head(b: &[u8]) -> bool {
    b.windows(4).any(|w| w == b"\r\n\r\n") || b.windows(2).any(|w| w == b"\n\n")
}

/// Parses the head as the HTTP parser does and normalises its path.
fn parse(head: &[u8]) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    if let Ok(httparse::Status::Complete(_)) = req.parse(head)
        && let Some(target) = req.path
    {
        normalised_path(target.split('?').next().unwrap_or(target));
    }
}

/// A normalised path is clean (no `//`, no dot segment) and normalising it changes nothing.
pub(crate) fn normalised_path(path: &str) {
    let Ok(once) = normalize(path) else {
        return;
    };
    if !path.starts_with('/') {
        assert_eq!(once, path, "only origin-form paths are rewritten");
        return;
    }
    assert!(once.starts_with('/'), "{path:?} -> {once:?}");
    for bad in ["//", "/./", "/../"] {
        assert!(!once.contains(bad), "{path:?} -> {once:?}");
    }
    assert!(
        !once.ends_with("/.") && !once.ends_with("/.."),
        "{path:?} -> {once:?}"
    );
    let twice = normalize(&once).expect("a normalised path is accepted");
    assert_eq!(once, twice, "normalising is idempotent");
}

/// The PROXY reader consumes exactly its header (nothing of the request after it), and a v1
/// source it accepts prints back to a line it accepts the same way.
pub fn proxy_header(data: &[u8]) {
    let Some((_, seed, bytes)) = controls(data) else {
        return;
    };
    let mut peer = Peer::once(bytes, seed);
    let got = block_on(read_header(&mut peer));
    let Ok(source) = got else {
        return;
    };
    let v2 = bytes.starts_with(b"\r\n\r\n\0\r\nQUIT\n");
    let header_len = if v2 {
        16 + usize::from(u16::from_be_bytes([bytes[14], bytes[15]]))
    } else {
        // The first 12 bytes are read at once, then byte by byte up to the CRLF.
        let crlf = bytes[10..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a v1 line ends with CRLF");
        assert!(crlf + 12 <= 107, "a v1 line over 107 bytes was accepted");
        crlf + 12
    };
    assert_eq!(peer.read, header_len, "exactly the header is consumed");
    if let (Some(addr), false) = (source, v2) {
        reprint_v1(addr);
    }
}

fn reprint_v1(addr: SocketAddr) {
    let family = if addr.is_ipv4() { "TCP4" } else { "TCP6" };
    let line = format!(
        "PROXY {family} {} {} {} 80",
        addr.ip(),
        addr.ip(),
        addr.port()
    );
    assert_eq!(
        parse_v1(line.as_bytes()).expect("a printed v1 line parses"),
        Some(addr)
    );
}
