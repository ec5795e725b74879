//! The streams a tunnel relays between: after `101`, hyper's upgraded connection is taken
//! apart again when it wraps a plain TCP socket, so the tunnel reads and writes the socket
//! itself (no boxed trait object, no buffer adapters per call) and hyper's buffers are freed.
//! TLS and anything unusual stay behind hyper's `Upgraded`.

use bytes::{Bytes, BytesMut};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_util::either::Either;
use wsgate_tunnel::Prefixed;

/// One side of a tunnel: the bytes already read past the handshake, then the stream.
pub type RelayStream = Prefixed<Socket>;

/// The socket under a tunnel's side: a plain TCP connection used directly, or anything
/// else (TLS) through hyper.
pub type Socket = Either<TcpStream, TokioIo<Upgraded>>;

/// The client side of an upgraded request.
pub fn client(upgraded: Upgraded) -> RelayStream {
    match upgraded.downcast::<TokioIo<Prefixed<TcpStream>>>() {
        Ok(parts) => {
            let (unread_head, tcp) = parts.io.into_inner().into_parts();
            // hyper read `read_buf` out of the stream before what is left of the head.
            Prefixed::new(join(parts.read_buf, unread_head), Either::Left(tcp))
        }
        Err(upgraded) => Prefixed::new(Bytes::new(), Either::Right(TokioIo::new(upgraded))),
    }
}

/// The backend side of an upgraded response.
pub fn backend(upgraded: Upgraded) -> RelayStream {
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => Prefixed::new(
            join(parts.read_buf, Bytes::new()),
            Either::Left(parts.io.into_inner()),
        ),
        Err(upgraded) => Prefixed::new(Bytes::new(), Either::Right(TokioIo::new(upgraded))),
    }
}

/// `a` then `b`, holding no allocation when both are empty (an empty slice of hyper's read
/// buffer would keep the whole buffer alive).
fn join(a: Bytes, b: Bytes) -> Bytes {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Bytes::new(),
        (false, true) => a,
        (true, false) => b,
        (false, false) => {
            let mut both = BytesMut::with_capacity(a.len() + b.len());
            both.extend_from_slice(&a);
            both.extend_from_slice(&b);
            both.freeze()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_order_and_drops_empty_slices() {
        let big = Bytes::from(vec![b'x'; 8192]);
        let empty_slice = big.slice(8192..);
        let joined = join(empty_slice, Bytes::new());
        assert!(joined.is_empty());
        drop(joined);
        assert!(
            big.is_unique(),
            "an empty join holds nothing of the read buffer"
        );
        let ab = join(Bytes::from_static(b"ab"), Bytes::from_static(b"cd"));
        assert_eq!(&ab[..], b"abcd");
    }
}
