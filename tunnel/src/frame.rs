//! Incremental WebSocket frame-boundary tracking (RFC 6455 section 5.2).
//!
//! The tracker reads frame headers as bytes stream past and tells the relay what to do with
//! them. Data payloads are never copied or unmasked; control frames (at most 125 bytes of
//! payload) are collected whole so the relay can inspect pongs and closes.

/// Continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Text frame.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame.
pub const OP_PING: u8 = 0x9;
/// Pong frame.
pub const OP_PONG: u8 = 0xA;

use crate::rules::Rules;
use crate::utf8::TextCheck;

/// Why a text message was refused.
const NOT_UTF8: &str = "a text message is not UTF-8";

/// Largest control frame: 2 header bytes, 4 mask bytes, 125 payload bytes.
const MAX_CONTROL_FRAME: usize = 2 + 4 + 125;

/// What to do with the next bytes of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Forward the next `n` input bytes unchanged.
    Pass(usize),
    /// A data-frame header that straddled reads is complete: forward [`FrameTracker::header`]
    /// first; `consumed` input bytes belonged to it.
    PassHeader {
        /// Input bytes consumed.
        consumed: usize,
    },
    /// `n` bytes were taken into the tracker (partial header or control frame).
    Buffered(usize),
    /// A whole control frame is in [`FrameTracker::control`]; `consumed` input bytes ended it.
    Control {
        /// Input bytes consumed.
        consumed: usize,
    },
    /// The message being received exceeds the size limit; nothing of its frame was passed.
    TooBig,
    /// The peer broke the framing rules.
    ProtocolError(&'static str),
    /// A text message is not UTF-8 (strict rules: close with 1007); its proof was not passed.
    InvalidPayload(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Payload { remaining: u64 },
    Control,
}

/// Tracks frame boundaries of one direction of a WebSocket.
#[derive(Debug)]
pub struct FrameTracker {
    state: State,
    hdr: [u8; 14],
    hdr_len: u8,
    hdr_done: u8,
    ctrl: [u8; MAX_CONTROL_FRAME],
    ctrl_len: u8,
    message_bytes: u64,
    max_message_bytes: u64,
    messages: u64,
    sizes: crate::sizes::SizeCounts,
    rules: Rules,
    /// A fragmented data message is in progress.
    in_message: bool,
    /// UTF-8 of text messages (strict rules, not compressed).
    text: TextCheck,
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// FIN bit.
    pub fin: bool,
    /// Opcode.
    pub opcode: u8,
    /// The three reserved bits (RSV1-3), shifted down.
    pub rsv: u8,
    /// Masking key, if masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub len: u64,
    /// Header length in bytes.
    pub header_len: usize,
}

/// Header length implied by the second header byte (length code and mask bit).
pub fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// Parses a complete header from `bytes` (at least `header_len(bytes[1])` long).
pub fn parse_header(bytes: &[u8]) -> Header {
    let b0 = bytes[0];
    let b1 = bytes[1];
    let hl = header_len(b1);
    let (len, at) = match b1 & 0x7F {
        126 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = (b1 & 0x80 != 0).then(|| [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Header {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0F,
        rsv: (b0 >> 4) & 0x07,
        mask,
        len,
        header_len: hl,
    }
}

impl FrameTracker {
    /// A tracker that refuses messages larger than `max_message_bytes` and checks only the
    /// framing ([`Rules::PASSTHROUGH`]).
    pub fn new(max_message_bytes: u64) -> Self {
        Self::with_rules(max_message_bytes, Rules::PASSTHROUGH)
    }

    /// A tracker that also enforces `rules`.
    pub fn with_rules(max_message_bytes: u64, rules: Rules) -> Self {
        Self {
            state: State::Header,
            hdr: [0; 14],
            hdr_len: 0,
            hdr_done: 0,
            ctrl: [0; MAX_CONTROL_FRAME],
            ctrl_len: 0,
            message_bytes: 0,
            max_message_bytes,
            messages: 0,
            sizes: crate::sizes::SizeCounts::default(),
            rules,
            in_message: false,
            text: TextCheck::default(),
        }
    }

    /// True when everything passed so far ends on a frame boundary, so a frame may be injected.
    pub fn at_boundary(&self) -> bool {
        !matches!(self.state, State::Payload { .. })
    }

    /// Sizes of the messages completed since the last call.
    pub fn take_sizes(&mut self) -> crate::sizes::SizeCounts {
        std::mem::take(&mut self.sizes)
    }

    /// Complete messages seen so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// The header bytes to forward after [`Step::PassHeader`].
    pub fn header(&self) -> &[u8] {
        &self.hdr[..usize::from(self.hdr_done)]
    }

    /// The control frame held after [`Step::Control`].
    pub fn control(&self) -> &[u8] {
        &self.ctrl[..usize::from(self.ctrl_len)]
    }

    /// Decides what to do with the start of `input` (non-empty).
    pub fn step(&mut self, input: &[u8]) -> Step {
        match self.state {
            State::Payload { remaining } => {
                let n = remaining.min(input.len() as u64);
                let left = remaining - n;
                if !self.text.pass(&input[..n as usize], left == 0) {
                    return Step::InvalidPayload(NOT_UTF8);
                }
                self.state = if left == 0 {
                    State::Header
                } else {
                    State::Payload { remaining: left }
                };
                Step::Pass(n as usize)
            }
            State::Control => self.fill_control(input),
            State::Header => {
                if self.hdr_len == 0 && input[0] & 0x08 != 0 {
                    // Opcodes 8-15 are control frames: hold the whole frame.
                    self.ctrl_len = 0;
                    return self.fill_control(input);
                }
                if self.hdr_len == 0 && input.len() >= 2 {
                    let hl = header_len(input[1]);
                    if input.len() >= hl {
                        let h = parse_header(&input[..hl]);
                        if let Some(stop) = self.begin_data_frame(&h) {
                            return stop;
                        }
                        let take = (input.len() - hl) as u64;
                        let n = take.min(h.len);
                        let left = h.len - n;
                        if !self.text.pass(&input[hl..hl + n as usize], left == 0) {
                            return Step::InvalidPayload(NOT_UTF8);
                        }
                        self.state = if left == 0 {
                            State::Header
                        } else {
                            State::Payload { remaining: left }
                        };
                        return Step::Pass(hl + n as usize);
                    }
                }
                self.fill_header(input)
            }
        }
    }

    /// Collects a data-frame header that straddles reads.
    fn fill_header(&mut self, input: &[u8]) -> Step {
        let mut used = 0;
        loop {
            let have = usize::from(self.hdr_len);
            let need = if have >= 2 {
                header_len(self.hdr[1])
            } else {
                2
            };
            if have == need {
                break;
            }
            if used == input.len() {
                return Step::Buffered(used);
            }
            let take = (need - have).min(input.len() - used);
            self.hdr[have..have + take].copy_from_slice(&input[used..used + take]);
            self.hdr_len = (have + take) as u8;
            used += take;
        }
        let done = usize::from(self.hdr_len);
        self.hdr_len = 0;
        self.hdr_done = done as u8;
        let h = parse_header(&self.hdr[..done]);
        if let Some(stop) = self.begin_data_frame(&h) {
            return stop;
        }
        if h.len == 0 && !self.text.pass(&[], true) {
            return Step::InvalidPayload(NOT_UTF8);
        }
        self.state = if h.len == 0 {
            State::Header
        } else {
            State::Payload { remaining: h.len }
        };
        Step::PassHeader { consumed: used }
    }

    /// Accounts a data frame; returns a stop step if it must not be forwarded.
    fn begin_data_frame(&mut self, h: &Header) -> Option<Step> {
        let checked = self
            .rules
            .check(h.rsv, h.opcode, h.mask.is_some(), self.in_message);
        if let Err(why) = checked {
            return Some(Step::ProtocolError(why));
        }
        self.in_message = !h.fin;
        // A compressed message (RSV1) is checked by the endpoints once inflated.
        let starts = match h.opcode {
            OP_CONTINUATION => None,
            op => Some(op == OP_TEXT && self.rules.strict && h.rsv == 0),
        };
        self.text.begin(starts, h.mask, h.fin);
        self.message_bytes = self.message_bytes.saturating_add(h.len);
        if self.message_bytes > self.max_message_bytes {
            return Some(Step::TooBig);
        }
        if h.fin {
            self.messages += 1;
            self.sizes.add(self.message_bytes);
            self.message_bytes = 0;
        }
        None
    }

    /// Collects a control frame until it is complete.
    fn fill_control(&mut self, input: &[u8]) -> Step {
        let mut used = 0;
        loop {
            let have = usize::from(self.ctrl_len);
            let need = if have < 2 {
                2
            } else {
                let (b0, b1) = (self.ctrl[0], self.ctrl[1]);
                if b0 & 0x80 == 0 {
                    return Step::ProtocolError("fragmented control frame");
                }
                let masked = b1 & 0x80 != 0;
                let checked = self.rules.check((b0 >> 4) & 7, b0 & 0x0F, masked, false);
                if let Err(why) = checked {
                    return Step::ProtocolError(why);
                }
                let len7 = usize::from(self.ctrl[1] & 0x7F);
                if len7 > 125 {
                    return Step::ProtocolError("control frame longer than 125 bytes");
                }
                header_len(self.ctrl[1]) + len7
            };
            if have == need {
                self.state = State::Header;
                if self.rules.strict && self.ctrl[0] & 0x0F == OP_CLOSE {
                    let (_, payload) = control_payload(self.control());
                    if let Err(why) = self.rules.check_close(&payload) {
                        return Step::ProtocolError(why);
                    }
                }
                return Step::Control { consumed: used };
            }
            if used == input.len() {
                self.state = State::Control;
                return Step::Buffered(used);
            }
            let take = (need - have).min(input.len() - used);
            self.ctrl[have..have + take].copy_from_slice(&input[used..used + take]);
            self.ctrl_len = (have + take) as u8;
            used += take;
        }
    }
}

/// Applies (or removes) a WebSocket mask in place.
pub fn apply_mask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Writes a control frame (`opcode`, `payload` of at most 125 bytes) into `out`,
/// masked with `mask` when given (client-to-server frames must be masked).
pub fn encode_control(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    let len = payload.len().min(125);
    out.push(0x80 | opcode);
    match mask {
        Some(key) => {
            out.push(0x80 | len as u8);
            out.extend_from_slice(&key);
            let start = out.len();
            out.extend_from_slice(&payload[..len]);
            apply_mask(&mut out[start..], key);
        }
        None => {
            out.push(len as u8);
            out.extend_from_slice(&payload[..len]);
        }
    }
}

/// Builds a close payload: 2-byte code and a UTF-8 reason cut to fit 125 bytes.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(2 + reason.len().min(123));
    p.extend_from_slice(&code.to_be_bytes());
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    p.extend_from_slice(&reason.as_bytes()[..cut]);
    p
}

/// Reads the close code and the unmasked payload of a complete control frame.
pub fn control_payload(frame: &[u8]) -> (u8, Vec<u8>) {
    let h = parse_header(frame);
    let mut payload = frame[h.header_len..].to_vec();
    if let Some(mask) = h.mask {
        apply_mask(&mut payload, mask);
    }
    (h.opcode, payload)
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
