//! The tunnel state machine: one task polls both halves, one timer and the drain signal,
//! and turns what the halves report (closes, oversize messages, protocol errors) and what the
//! timers say (keepalive, idle, drain) into close frames and an end reason.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};

use crate::cancel_watch::CancelWatch;
use crate::config::{Meter, Traffic, TunnelConfig};
use crate::frame::{OP_CLOSE, OP_PING, close_payload, encode_control};
use crate::half::{Half, Side, Signals};
use crate::rules::Rules;
use crate::summary::{CloseReason, CloseSide, TunnelSummary};

/// After wsgate starts a close (or one side finished), how long the peers get to finish.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

struct Tunnel<C, B, M> {
    client: C,
    backend: B,
    up: Half,
    down: Half,
    sig: Signals,
    cfg: TunnelConfig<M>,
    drain: Option<CancelWatch>,
    timer: Pin<Box<Sleep>>,
    timer_at: Instant,
    last_activity: Instant,
    idle_at: Option<Instant>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    /// A keepalive ping waits for a frame boundary; its pong deadline starts once it is out.
    ping_waiting: bool,
    drain_at: Option<(Instant, CloseReason)>,
    deadline: Option<Instant>,
    closing: Option<CloseReason>,
    /// Code of the close wsgate started, when it started one before either peer.
    own_close_code: Option<u16>,
    messages_up: u64,
    messages_down: u64,
    bytes_counted: (u64, u64),
}

/// Relays between `client` and `backend` until the connection ends. A plain function that
/// returns the tunnel itself as the future (`Unpin`, so it can be awaited in place), so a
/// task holds the tunnel's state once: that is most of an idle connection's memory.
pub fn run<C, B, M>(
    client: C,
    backend: B,
    cfg: TunnelConfig<M>,
) -> impl Future<Output = TunnelSummary> + Unpin
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
    M: Meter + Unpin,
{
    let mut t = Tunnel::new(client, backend, cfg);
    poll_fn(move |cx| t.poll(cx).map(|reason| t.finish(reason)))
}

impl<C, B, M> Tunnel<C, B, M>
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
    M: Meter,
{
    fn new(client: C, backend: B, cfg: TunnelConfig<M>) -> Self {
        let now = Instant::now();
        let max = cfg.policy.max_message_bytes;
        let far = now + Duration::from_secs(86400 * 365);
        let rules = |masked| Rules {
            strict: cfg.policy.strict,
            masked,
            extensions: cfg.policy.extensions,
        };
        Self {
            client,
            backend,
            up: Half::new(Side::Up, max, rules(true)),
            down: Half::new(Side::Down, max, rules(false)),
            sig: Signals::default(),
            drain: Some(CancelWatch::new(
                cfg.close_request
                    .as_ref()
                    .map_or(&cfg.drain, |r| &r.token)
                    .clone(),
            )),
            timer: Box::pin(tokio::time::sleep_until(far)),
            timer_at: far,
            last_activity: now,
            idle_at: cfg.policy.idle_timeout.map(|d| now + d),
            next_ping: cfg.policy.keepalive.map(|k| now + k.interval),
            pong_deadline: None,
            ping_waiting: false,
            drain_at: None,
            deadline: None,
            closing: None,
            own_close_code: None,
            messages_up: 0,
            messages_down: 0,
            bytes_counted: (0, 0),
            cfg,
        }
    }

    /// The summary once the tunnel ended for `reason`.
    fn finish(&mut self, reason: CloseReason) -> TunnelSummary {
        self.count_messages();
        TunnelSummary {
            reason,
            messages_up: self.messages_up,
            messages_down: self.messages_down,
            bytes_up: self.up.bytes,
            bytes_down: self.down.bytes,
            close: match (self.own_close_code, self.sig.first_close) {
                (Some(code), _) => Some((CloseSide::Wsgate, code)),
                (None, Some(Side::Up)) => self.sig.close_code.map(|c| (CloseSide::Client, c)),
                (None, Some(Side::Down)) => self.sig.close_code.map(|c| (CloseSide::Backend, c)),
                (None, None) => None,
            },
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<CloseReason> {
        if let Some(drain) = self.drain.as_mut()
            && drain.poll(cx).is_ready()
        {
            self.drain = None;
            match &self.cfg.close_request {
                // Asked for this connection alone: the rebalancer already spread the closes.
                Some(r) if !self.cfg.drain.is_cancelled() => {
                    let code = r.code;
                    self.begin_close(Instant::now(), CloseReason::Rebalanced, code, "rebalancing");
                }
                _ => self.schedule_drain(),
            }
        }
        loop {
            let now = Instant::now();
            if let Some(reason) = self.fire_timers(now) {
                return Poll::Ready(reason);
            }
            let up = self
                .up
                .poll_relay(cx, &mut self.client, &mut self.backend, &mut self.sig);
            let down = self
                .down
                .poll_relay(cx, &mut self.backend, &mut self.client, &mut self.sig);
            if matches!(up, Poll::Ready(Err(_))) || matches!(down, Poll::Ready(Err(_))) {
                // A write failed: the other side is gone; nothing more can be delivered.
                return Poll::Ready(self.closing.unwrap_or_else(|| self.end_reason()));
            }
            self.count_messages();
            self.start_pong_deadline(now);
            let control = std::mem::take(&mut self.sig.control_activity);
            if std::mem::take(&mut self.sig.activity)
                || (control && self.cfg.policy.idle_counts_control)
            {
                self.last_activity = now;
            }
            let injected = self.react(now);
            if self.done() {
                return Poll::Ready(self.closing.unwrap_or_else(|| self.end_reason()));
            }
            if (self.up.finished() || self.down.finished()) && self.deadline.is_none() {
                self.deadline = Some(now + CLOSE_GRACE);
            }
            if injected {
                continue;
            }
            let next = self.next_deadline();
            if next != self.timer_at {
                self.timer.as_mut().reset(next);
                self.timer_at = next;
            }
            if self.timer.as_mut().poll(cx).is_ready() {
                continue;
            }
            return Poll::Pending;
        }
    }

    /// Both directions ended, or one did after the close handshake (or with a dead client):
    /// nothing more can usefully cross.
    fn done(&self) -> bool {
        let (up, down) = (self.up.finished(), self.down.finished());
        let handshake_done = self.sig.client_closed && self.sig.backend_closed;
        (up && down)
            || ((up || down)
                && (handshake_done || self.closing == Some(CloseReason::KeepaliveTimeout)))
    }

    /// Reports messages and bytes relayed since the last call to the meter.
    fn count_messages(&mut self) {
        let up = self.up.take_message_count();
        let down = self.down.take_message_count();
        self.messages_up += up;
        self.messages_down += down;
        let (up_seen, down_seen) = self.bytes_counted;
        let traffic = Traffic {
            messages_up: up,
            messages_down: down,
            bytes_up: self.up.bytes - up_seen,
            bytes_down: self.down.bytes - down_seen,
            sizes_up: self.up.take_sizes(),
            sizes_down: self.down.take_sizes(),
        };
        if traffic != Traffic::default() {
            self.cfg.meter.record(traffic);
        }
        self.bytes_counted = (self.up.bytes, self.down.bytes);
    }

    /// Turns what the halves reported into closes. Returns true if frames were queued.
    fn react(&mut self, now: Instant) -> bool {
        if self.closing.is_some() {
            return false;
        }
        if self.sig.too_big.is_some() {
            return self.begin_close(now, CloseReason::MessageTooBig, 1009, "message too big");
        }
        if self.sig.protocol_error.is_some() {
            return self.begin_close(now, CloseReason::ProtocolError, 1002, "protocol error");
        }
        if self.sig.invalid_payload.is_some() {
            let why = "a text message is not UTF-8";
            return self.begin_close(now, CloseReason::InvalidPayload, 1007, why);
        }
        if self.sig.client_closed && self.sig.backend_closed && self.deadline.is_none() {
            self.deadline = Some(now + CLOSE_GRACE);
        }
        false
    }

    fn end_reason(&self) -> CloseReason {
        match self.sig.first_close {
            Some(Side::Up) => CloseReason::ClientClose,
            Some(Side::Down) => CloseReason::BackendClose,
            None if self.up.eof && (!self.down.eof || self.up.failed) => {
                CloseReason::ClientDisconnect
            }
            None if self.down.eof => CloseReason::BackendDisconnect,
            None => CloseReason::ClientDisconnect,
        }
    }

    /// Queues close frames both ways (unless a close already went that way).
    fn begin_close(&mut self, now: Instant, reason: CloseReason, code: u16, text: &str) -> bool {
        if self.closing.is_some() {
            return false;
        }
        self.closing = Some(reason);
        if self.sig.first_close.is_none() {
            self.own_close_code = Some(code);
        }
        self.next_ping = None;
        self.pong_deadline = None;
        self.ping_waiting = false;
        self.idle_at = None;
        self.drain_at = None;
        let payload = close_payload(code, text);
        let mut frame = Vec::with_capacity(8 + payload.len());
        encode_control(&mut frame, OP_CLOSE, &payload, None);
        self.down.queue(&frame, true);
        frame.clear();
        encode_control(
            &mut frame,
            OP_CLOSE,
            &payload,
            Some(fastrand::u32(..).to_be_bytes()),
        );
        self.up.queue(&frame, true);
        let grace = self
            .deadline
            .map_or(now + CLOSE_GRACE, |d| d.min(now + CLOSE_GRACE));
        self.deadline = Some(grace);
        true
    }

    fn schedule_drain(&mut self) {
        let (reason, spread) = if self.cfg.shutdown.is_cancelled() {
            (
                CloseReason::Shutdown,
                self.cfg.policy.drain.period.min(self.cfg.shutdown_spread),
            )
        } else {
            (CloseReason::EndpointRemoved, self.cfg.policy.drain.period)
        };
        let delay = spread.mul_f64(fastrand::f64());
        self.drain_at = Some((Instant::now() + delay, reason));
    }

    /// Handles every deadline that has passed; returns a reason when the tunnel must end now.
    fn fire_timers(&mut self, now: Instant) -> Option<CloseReason> {
        if let Some(deadline) = self.deadline
            && deadline <= now
        {
            return Some(self.closing.unwrap_or_else(|| self.end_reason()));
        }
        if let Some((at, reason)) = self.drain_at
            && at <= now
        {
            let code = self.cfg.policy.drain.close_code;
            let text = if reason == CloseReason::Shutdown {
                "wsgate shutting down"
            } else {
                "endpoint going away"
            };
            self.begin_close(now, reason, code, text);
        }
        if let Some(at) = self.pong_deadline
            && at <= now
        {
            if self.sig.ping_outstanding.is_some() {
                self.begin_close(
                    now,
                    CloseReason::KeepaliveTimeout,
                    1001,
                    "keepalive timeout",
                );
            } else {
                self.pong_deadline = None;
            }
        }
        if let (Some(at), Some(k)) = (self.next_ping, self.cfg.policy.keepalive)
            && at <= now
        {
            self.next_ping = Some(now + k.interval);
            if self.sig.ping_outstanding.is_none() {
                let payload = fastrand::u64(..).to_be_bytes();
                let mut frame = Vec::with_capacity(10);
                encode_control(&mut frame, OP_PING, &payload, None);
                self.down.queue(&frame, false);
                self.sig.ping_outstanding = Some(payload);
                self.ping_waiting = true;
            }
        }
        if let (Some(at), Some(idle)) = (self.idle_at, self.cfg.policy.idle_timeout)
            && at <= now
        {
            let due = self.last_activity + idle;
            if due <= now {
                self.begin_close(now, CloseReason::Idle, 1001, "idle timeout");
            } else {
                self.idle_at = Some(due);
            }
        }
        None
    }

    /// The pong deadline runs from when the ping left, not from when it was queued: behind a
    /// long frame still passing to the client, the ping waits for its boundary.
    fn start_pong_deadline(&mut self, now: Instant) {
        if self.ping_waiting
            && !self.down.injection_waiting()
            && let Some(k) = self.cfg.policy.keepalive
        {
            self.ping_waiting = false;
            if self.closing.is_none() && self.sig.ping_outstanding.is_some() {
                self.pong_deadline = Some(now + k.pong_timeout);
            }
        }
    }

    fn next_deadline(&self) -> Instant {
        [
            self.deadline,
            self.drain_at.map(|(at, _)| at),
            self.pong_deadline,
            self.next_ping,
            self.idle_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.timer_at)
    }
}

#[cfg(test)]
#[path = "tunnel_tests.rs"]
mod tests;
