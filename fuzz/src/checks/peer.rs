//! The in-memory peer the stream readers are fed from, and how an input drives it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The selector, the split seed and the payload of an input (`None` when it is too short).
pub(crate) fn controls(data: &[u8]) -> Option<(u8, u8, &[u8])> {
    match data {
        [selector, seed, rest @ ..] => Some((*selector, *seed, rest)),
        _ => None,
    }
}

/// Read sizes for `len` bytes from `seed`: one read for 0, else 1..=16 bytes each (xorshift).
pub(crate) fn cuts(seed: u8, len: usize) -> Vec<usize> {
    if seed == 0 {
        return vec![len.max(1)];
    }
    let max = usize::from(seed % 16) + 1;
    let mut state = u32::from(seed) | 0x9E37_0000;
    let mut out = Vec::new();
    let mut total = 0;
    while total < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state as usize % max) + 1;
        out.push(n);
        total += n;
    }
    out
}

/// An in-memory peer: hands out `data` in reads of the given sizes (cycling through the
/// sizes), optionally repeating `data` until `limit` bytes were read; then end of stream.
/// Writes are accepted and dropped. Counts what was read from it.
pub(crate) struct Peer<'a> {
    data: &'a [u8],
    cuts: Vec<usize>,
    at: usize,
    turn: usize,
    /// Bytes handed out so far.
    pub read: usize,
    /// Stop after this many bytes (`data.len()` when not repeating).
    limit: usize,
}

impl<'a> Peer<'a> {
    /// A peer that sends `data` once, in reads cut by `seed`.
    pub(crate) fn once(data: &'a [u8], seed: u8) -> Self {
        Self::repeating(data, seed, data.len())
    }

    /// A peer that sends `data` over and over until `limit` bytes.
    pub(crate) fn repeating(data: &'a [u8], seed: u8, limit: usize) -> Self {
        Peer {
            data,
            cuts: cuts(seed, data.len()),
            at: 0,
            turn: 0,
            read: 0,
            limit: if data.is_empty() { 0 } else { limit },
        }
    }
}

impl AsyncRead for Peer<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.read >= self.limit {
            return Poll::Ready(Ok(()));
        }
        let cut = self.cuts[self.turn % self.cuts.len()];
        self.turn += 1;
        let n = cut
            .min(buf.remaining())
            .min(self.data.len() - self.at)
            .min(self.limit - self.read);
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at = (at + n) % self.data.len();
        self.read += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Peer<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

/// Runs a reader to completion on this thread's runtime (built once: a runtime per input
/// would cost more than the parse).
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(f))
}
