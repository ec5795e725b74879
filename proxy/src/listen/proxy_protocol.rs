//! PROXY protocol v1 (text) and v2 (binary) headers, as sent by cloud L4 load balancers in
//! front of wsgate: the header names the original client, which replaces the TCP peer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The 12-byte signature that starts a v2 header.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Longest v1 line, CRLF included (the specification's limit).
const V1_MAX: usize = 107;

/// Why a PROXY header was refused (the connection is closed).
#[derive(Debug, thiserror::Error)]
pub enum ProxyHeaderError {
    /// The connection did not start with a PROXY header.
    #[error("the connection did not start with a PROXY protocol header")]
    Missing,
    /// The header is malformed.
    #[error("malformed PROXY protocol header: {0}")]
    Malformed(&'static str),
    /// Reading failed.
    #[error("reading the PROXY protocol header: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one PROXY header from the start of `stream`, consuming exactly its bytes.
/// Returns the client it names, or `None` for `LOCAL`/`UNKNOWN` (health checks of the balancer).
pub async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let mut start = [0u8; 12];
    stream.read_exact(&mut start).await?;
    if start == V2_SIGNATURE {
        return read_v2(stream).await;
    }
    if !start.starts_with(b"PROXY ") {
        return Err(ProxyHeaderError::Missing);
    }
    let mut line = start.to_vec();
    // Byte by byte so nothing after the line is consumed; the line is at most 107 bytes.
    while !line.ends_with(b"\r\n") {
        if line.len() >= V1_MAX {
            return Err(ProxyHeaderError::Malformed("v1 line longer than 107 bytes"));
        }
        line.push(stream.read_u8().await?);
    }
    parse_v1(&line[..line.len() - 2])
}

/// Parses `PROXY TCP4 src dst sport dport` (without CRLF).
pub fn parse_v1(line: &[u8]) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let text = std::str::from_utf8(line).map_err(|_| ProxyHeaderError::Malformed("not ASCII"))?;
    let parts: Vec<&str> = text.split(' ').collect();
    match parts.as_slice() {
        ["PROXY", "UNKNOWN", ..] => Ok(None),
        [
            "PROXY",
            family @ ("TCP4" | "TCP6"),
            src,
            _dst,
            sport,
            _dport,
        ] => {
            let ip: IpAddr = src
                .parse()
                .map_err(|_| ProxyHeaderError::Malformed("bad v1 source address"))?;
            if ip.is_ipv4() != (*family == "TCP4") {
                return Err(ProxyHeaderError::Malformed("v1 address family mismatch"));
            }
            let port: u16 = sport
                .parse()
                .map_err(|_| ProxyHeaderError::Malformed("bad v1 source port"))?;
            Ok(Some(SocketAddr::new(ip, port)))
        }
        _ => Err(ProxyHeaderError::Malformed("bad v1 line")),
    }
}

async fn read_v2<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let mut fixed = [0u8; 4];
    stream.read_exact(&mut fixed).await?;
    let len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await?;
    parse_v2(fixed[0], fixed[1], &body)
}

/// Parses the v2 fields after the signature: version/command, family/transport, addresses.
pub fn parse_v2(
    ver_cmd: u8,
    family: u8,
    body: &[u8],
) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    if ver_cmd >> 4 != 2 {
        return Err(ProxyHeaderError::Malformed("v2 version must be 2"));
    }
    match ver_cmd & 0x0F {
        0 => return Ok(None),
        1 => {}
        _ => return Err(ProxyHeaderError::Malformed("unknown v2 command")),
    }
    let short = ProxyHeaderError::Malformed("v2 address block too short");
    match family >> 4 {
        1 => {
            let b = body.get(..12).ok_or(short)?;
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            Ok(Some(SocketAddr::new(
                ip.into(),
                u16::from_be_bytes([b[8], b[9]]),
            )))
        }
        2 => {
            let b = body.get(..36).ok_or(short)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[..16]);
            let ip = Ipv6Addr::from(octets);
            Ok(Some(SocketAddr::new(
                ip.into(),
                u16::from_be_bytes([b[32], b[33]]),
            )))
        }
        // AF_UNSPEC or AF_UNIX: nothing usable, keep the TCP peer.
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_v1_and_v2_and_leaves_the_rest() {
        let mut v1: &[u8] = b"PROXY TCP4 203.0.113.7 10.0.0.1 51000 80\r\nGET / HTTP/1.1\r\n";
        let got = read_header(&mut v1).await.expect("v1");
        assert_eq!(got, Some("203.0.113.7:51000".parse().expect("addr")));
        assert_eq!(v1, b"GET / HTTP/1.1\r\n");

        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend_from_slice(&[
            0x21, 0x11, 0, 12, 198, 51, 100, 9, 10, 0, 0, 1, 0xC3, 0x50, 0, 80,
        ]);
        v2.extend_from_slice(b"rest");
        let mut r: &[u8] = &v2;
        let got = read_header(&mut r).await.expect("v2");
        assert_eq!(got, Some("198.51.100.9:50000".parse().expect("addr")));
        assert_eq!(r, b"rest");
    }

    #[tokio::test]
    async fn refuses_missing_or_broken_headers_and_accepts_local() {
        let mut plain: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(matches!(
            read_header(&mut plain).await,
            Err(ProxyHeaderError::Missing)
        ));
        assert!(parse_v1(b"PROXY TCP4 1.2.3.4").is_err());
        assert!(parse_v1(b"PROXY TCP4 ::1 ::1 1 2").is_err());
        assert_eq!(parse_v1(b"PROXY UNKNOWN").expect("unknown"), None);
        assert_eq!(parse_v2(0x20, 0x00, &[]).expect("local"), None);
        assert!(parse_v2(0x21, 0x11, &[1, 2, 3]).is_err());
    }

    #[tokio::test]
    async fn l4_proxy_v2_lengths_are_bounded_by_their_u16() {
        // The largest length a v2 header can declare is read whole, and nothing after it.
        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend_from_slice(&[0x21, 0x11, 0xFF, 0xFF, 198, 51, 100, 9]);
        v2.extend_from_slice(&[0u8; 65535 - 4]);
        v2.extend_from_slice(b"rest");
        let mut r: &[u8] = &v2;
        let got = read_header(&mut r).await.expect("v2 with 64 KiB of TLVs");
        assert_eq!(
            got.map(|a| a.ip()),
            Some("198.51.100.9".parse().expect("ip"))
        );
        assert_eq!(r, b"rest");
        // A header that declares more than it sends ends with the stream, not a panic.
        let mut short = V2_SIGNATURE.to_vec();
        short.extend_from_slice(&[0x21, 0x11, 0xFF, 0xFF, 1, 2, 3]);
        assert!(matches!(
            read_header(&mut &short[..]).await,
            Err(ProxyHeaderError::Io(_))
        ));
        // Address blocks shorter than their family are refused at every length.
        for n in 0..12 {
            assert!(parse_v2(0x21, 0x11, &[0u8; 36][..n]).is_err(), "{n}");
        }
        for n in 0..36 {
            assert!(parse_v2(0x21, 0x21, &[0u8; 36][..n]).is_err(), "{n}");
        }
    }
}
