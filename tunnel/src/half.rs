//! One direction of a tunnel: reads from a source, tracks frames, writes to a sink.
//!
//! Reads go into the thread's scratch buffer and output goes straight from it to the sink;
//! only bytes the sink did not take (or frames that must be rebuilt) are copied to `pending`,
//! a buffer borrowed from the thread's pool and given back once written, so an idle
//! connection holds no buffer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::frame::{FrameTracker, OP_CLOSE, OP_PONG, Step, control_payload};
use super::pool::{Pending, Scratch};
use super::rules::Rules;

/// Which way a half carries frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Client to backend (frames are masked).
    Up,
    /// Backend to client (frames are unmasked).
    Down,
}

/// Facts a half reports to the tunnel while it relays.
#[derive(Debug, Default)]
pub struct Signals {
    /// A data frame went through.
    pub activity: bool,
    /// A control frame of a peer went through (not a pong to wsgate's keepalive).
    pub control_activity: bool,
    /// Payload of the keepalive ping still waiting for its pong.
    pub ping_outstanding: Option<[u8; 8]>,
    /// The client sent a close frame.
    pub client_closed: bool,
    /// The backend sent a close frame.
    pub backend_closed: bool,
    /// Side whose close came first, if any.
    pub first_close: Option<Side>,
    /// Code of the first close frame a peer sent.
    pub close_code: Option<u16>,
    /// Side that sent a message over the size limit.
    pub too_big: Option<Side>,
    /// Side that broke the framing rules.
    pub protocol_error: Option<Side>,
    /// Side that sent a text message that is not UTF-8.
    pub invalid_payload: Option<Side>,
}

/// State of one direction.
pub struct Half {
    side: Side,
    tracker: FrameTracker,
    pending: Pending,
    /// Frames waiting for a frame boundary (keepalive ping, proxy close).
    inject: Vec<u8>,
    close_queued: bool,
    /// A close frame has been written (forwarded or injected) to the sink.
    pub close_delivered: bool,
    /// Frames from the source are no longer forwarded (wsgate closed this way).
    pub discard: bool,
    /// Source input can no longer be parsed; it is dropped.
    dead: bool,
    /// The source reached EOF or failed.
    pub eof: bool,
    /// The source failed (reset) rather than ending cleanly.
    pub failed: bool,
    /// The sink's write side was shut down.
    pub shut: bool,
    /// Bytes read from the source.
    pub bytes: u64,
    counted: u64,
}

impl Half {
    /// A half with the given message size limit and protocol rules.
    pub fn new(side: Side, max_message_bytes: u64, rules: Rules) -> Self {
        Self {
            side,
            tracker: FrameTracker::with_rules(max_message_bytes, rules),
            pending: Pending::default(),
            inject: Vec::new(),
            close_queued: false,
            close_delivered: false,
            discard: false,
            dead: false,
            eof: false,
            failed: false,
            shut: false,
            bytes: 0,
            counted: 0,
        }
    }

    /// Queues a frame to be written at the next frame boundary; `is_close` switches the half
    /// to discarding once it is out.
    pub fn queue(&mut self, frame: &[u8], is_close: bool) {
        if self.close_queued || self.close_delivered || self.shut {
            return;
        }
        self.inject.extend_from_slice(frame);
        self.close_queued |= is_close;
    }

    /// Messages completed since the last call.
    pub fn take_message_count(&mut self) -> u64 {
        let total = self.tracker.messages();
        let delta = total - self.counted;
        self.counted = total;
        delta
    }

    /// True while the half holds a buffer (bytes waiting for the sink).
    #[cfg(test)]
    pub fn holds_buffer(&self) -> bool {
        self.pending.holds_buffer() || self.inject.capacity() > 0
    }

    /// Sizes of the messages completed since the last call.
    pub fn take_sizes(&mut self) -> crate::sizes::SizeCounts {
        self.tracker.take_sizes()
    }

    /// True while queued frames still wait for a frame boundary.
    pub fn injection_waiting(&self) -> bool {
        !self.inject.is_empty()
    }

    /// True once the source ended and the sink was shut down.
    pub fn finished(&self) -> bool {
        self.eof && self.shut
    }

    /// Relays until the source or sink would block. `Ready(Ok)` means finished.
    pub fn poll_relay<S, D>(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut S,
        dst: &mut D,
        sig: &mut Signals,
    ) -> Poll<io::Result<()>>
    where
        S: AsyncRead + Unpin,
        D: AsyncWrite + Unpin,
    {
        let mut scratch = Scratch::take();
        loop {
            ready!(self.poll_flush_pending(cx, dst))?;
            if !self.inject.is_empty() && self.tracker.at_boundary() && !self.shut {
                self.pending.extend(&std::mem::take(&mut self.inject));
                if self.close_queued {
                    self.close_queued = false;
                    self.close_delivered = true;
                    self.discard = true;
                }
                continue;
            }
            if !self.shut && self.should_shut(sig) {
                // Errors on shutdown only mean the peer is already gone.
                let _ = ready!(Pin::new(&mut *dst).poll_shutdown(cx));
                self.shut = true;
            }
            if self.eof {
                return Poll::Ready(Ok(()));
            }
            let buf = scratch.buf();
            let mut rb = ReadBuf::new(buf);
            match ready!(Pin::new(&mut *src).poll_read(cx, &mut rb)) {
                Err(_) => {
                    self.eof = true;
                    self.failed = true;
                }
                Ok(()) if rb.filled().is_empty() => self.eof = true,
                Ok(()) => {
                    let n = rb.filled().len();
                    self.bytes += n as u64;
                    self.process(cx, &buf[..n], dst, sig)?;
                }
            }
        }
    }

    /// The sink is shut when the source ended, or when wsgate's close went out this way and
    /// the peer on the other end answered it (a server closes TCP first, RFC 6455 7.1.1).
    fn should_shut(&self, sig: &Signals) -> bool {
        if self.eof {
            return true;
        }
        self.discard
            && self.close_delivered
            && match self.side {
                Side::Down => sig.client_closed,
                Side::Up => false,
            }
    }

    fn poll_flush_pending<D: AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut D,
    ) -> Poll<io::Result<()>> {
        while !self.pending.unwritten().is_empty() {
            let n = ready!(Pin::new(&mut *dst).poll_write(cx, self.pending.unwritten()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.consume(n);
        }
        Poll::Ready(Ok(()))
    }

    /// Walks the frames in `input`, writing what passes through to `dst`.
    fn process<D: AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        input: &[u8],
        dst: &mut D,
        sig: &mut Signals,
    ) -> io::Result<()> {
        let mut out = Output::default();
        let mut i = 0;
        while i < input.len() && !self.dead {
            match self.tracker.step(&input[i..]) {
                Step::Pass(n) => {
                    sig.activity = true;
                    if !self.discard {
                        out.pass(&mut self.pending, input, i, n);
                    }
                    i += n;
                }
                Step::PassHeader { consumed } => {
                    if !self.discard {
                        out.own(&mut self.pending, input);
                        self.pending.extend(self.tracker.header());
                    }
                    i += consumed;
                }
                Step::Buffered(n) => i += n,
                Step::Control { consumed } => {
                    i += consumed;
                    let forward = self.on_control(sig);
                    sig.control_activity |= forward;
                    if forward && !self.discard {
                        out.own(&mut self.pending, input);
                        self.pending.extend(self.tracker.control());
                    }
                }
                Step::TooBig => {
                    sig.too_big.get_or_insert(self.side);
                    self.dead = true;
                }
                Step::ProtocolError(what) => {
                    tracing::debug!(side = ?self.side, what, "WebSocket protocol error");
                    sig.protocol_error.get_or_insert(self.side);
                    self.dead = true;
                }
                Step::InvalidPayload(what) => {
                    tracing::debug!(side = ?self.side, what, "WebSocket invalid payload");
                    sig.invalid_payload.get_or_insert(self.side);
                    self.dead = true;
                }
            }
        }
        match out.direct {
            Some((s, e)) => self.write_direct(cx, dst, &input[s..e]),
            None => Ok(()),
        }
    }

    /// Fast path: one write straight from the read buffer; what the sink does not take now
    /// waits in `pending`.
    fn write_direct<D: AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut D,
        bytes: &[u8],
    ) -> io::Result<()> {
        let mut written = 0;
        while written < bytes.len() {
            match Pin::new(&mut *dst).poll_write(cx, &bytes[written..]) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(err)) => return Err(err),
                Poll::Pending => break,
            }
        }
        self.pending.extend(&bytes[written..]);
        Ok(())
    }

    /// Inspects a complete control frame; returns whether to forward it.
    fn on_control(&mut self, sig: &mut Signals) -> bool {
        let frame = self.tracker.control();
        let opcode = frame[0] & 0x0F;
        match (self.side, opcode) {
            (Side::Up, OP_PONG) => {
                if let Some(expected) = sig.ping_outstanding {
                    let (_, payload) = control_payload(frame);
                    if payload == expected {
                        sig.ping_outstanding = None;
                        return false;
                    }
                }
                true
            }
            (side, OP_CLOSE) => {
                match side {
                    Side::Up => sig.client_closed = true,
                    Side::Down => sig.backend_closed = true,
                }
                if sig.first_close.is_none() {
                    sig.first_close = Some(side);
                    sig.close_code = Some(crate::summary::close_code(frame));
                }
                if self.close_delivered {
                    // wsgate already closed this way; a second close frame is not allowed.
                    return false;
                }
                if !self.discard {
                    self.close_delivered = true;
                }
                true
            }
            _ => true,
        }
    }
}

/// Where the bytes that pass during one walk over a read go: while they form one contiguous
/// range of the input they stay there (`direct`, written straight from the read buffer);
/// once anything else must come in between, everything goes to `pending`.
#[derive(Default)]
struct Output {
    direct: Option<(usize, usize)>,
    owned: bool,
}

impl Output {
    /// Input bytes `i..i + n` pass through.
    #[inline]
    fn pass(&mut self, pending: &mut Pending, input: &[u8], i: usize, n: usize) {
        if self.owned {
            pending.extend(&input[i..i + n]);
            return;
        }
        match self.direct {
            Some((s, e)) if e == i => self.direct = Some((s, e + n)),
            Some((s, e)) => {
                pending.extend(&input[s..e]);
                pending.extend(&input[i..i + n]);
                self.direct = None;
                self.owned = true;
            }
            None => self.direct = Some((i, i + n)),
        }
    }

    /// Bytes that are not part of the input follow: from now on output goes to `pending`.
    #[inline]
    fn own(&mut self, pending: &mut Pending, input: &[u8]) {
        if let Some((s, e)) = self.direct.take() {
            pending.extend(&input[s..e]);
        }
        self.owned = true;
    }
}

#[cfg(test)]
#[path = "half_tests.rs"]
mod tests;
