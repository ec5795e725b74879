//! The streams a tunnel relays between: after `101`, hyper's upgraded connection is taken
//! apart again when it wraps a plain TCP socket, so the tunnel reads and writes the socket
//! itself (no boxed trait object, no buffer adapters per call) and hyper's buffers are freed.
//! TLS and anything unusual stay behind hyper's `Upgraded`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use wsgate_tunnel::Prefixed;

/// One side of a tunnel: the bytes already read past the handshake, then the stream.
pub type RelayStream = Prefixed<Socket>;

/// The socket under a tunnel's side.
#[derive(Debug)]
pub enum Socket {
    /// A plain TCP connection, used directly.
    Tcp(TcpStream),
    /// Anything else (TLS), through hyper.
    Upgraded(TokioIo<Upgraded>),
}

/// The client side of an upgraded request.
pub fn client(upgraded: Upgraded) -> RelayStream {
    match upgraded.downcast::<TokioIo<Prefixed<TcpStream>>>() {
        Ok(parts) => {
            let (unread_head, tcp) = parts.io.into_inner().into_parts();
            // hyper read `read_buf` out of the stream before what is left of the head.
            Prefixed::new(join(parts.read_buf, unread_head), Socket::Tcp(tcp))
        }
        Err(upgraded) => Prefixed::new(Bytes::new(), Socket::Upgraded(TokioIo::new(upgraded))),
    }
}

/// The backend side of an upgraded response.
pub fn backend(upgraded: Upgraded) -> RelayStream {
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => Prefixed::new(
            join(parts.read_buf, Bytes::new()),
            Socket::Tcp(parts.io.into_inner()),
        ),
        Err(upgraded) => Prefixed::new(Bytes::new(), Socket::Upgraded(TokioIo::new(upgraded))),
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

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Upgraded(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Upgraded(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Upgraded(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Upgraded(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Upgraded(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(s) => s.is_write_vectored(),
            Self::Upgraded(s) => s.is_write_vectored(),
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
