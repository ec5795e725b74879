//! WebSocket frames: the tunnel's frame tracker and the FirstMessage reader, both fed the
//! same bytes in one read and in random splits.

use wsgate_tunnel::Rules;
use wsgate_tunnel::first_message::{FirstMessageError, PRE_AUTH_OVERHEAD, read_first_message};
use wsgate_tunnel::frame::{FrameTracker, Step, apply_mask, control_payload, parse_header};

use super::peer::{Peer, block_on, controls, cuts};

/// How the tracker says a text message is not UTF-8.
const NOT_UTF8: &str = "a text message is not UTF-8";

/// What a tracker made of a byte stream: everything it passed on (data frames and control
/// frames, in order), the control frames alone, how it stopped, and the messages it counted.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    forwarded: Vec<u8>,
    controls: Vec<Vec<u8>>,
    stop: Option<String>,
    messages: u64,
}

fn drive(rules: Rules, max: u64, bytes: &[u8], reads: &[usize]) -> Outcome {
    let mut t = FrameTracker::with_rules(max, rules);
    let mut out = Outcome {
        forwarded: Vec::new(),
        controls: Vec::new(),
        stop: None,
        messages: 0,
    };
    let mut at = 0;
    for &n in reads {
        let end = (at + n).min(bytes.len());
        let mut chunk = &bytes[at..end];
        at = end;
        while !chunk.is_empty() {
            let used = match t.step(chunk) {
                Step::Pass(n) => {
                    out.forwarded.extend_from_slice(&chunk[..n]);
                    n
                }
                Step::PassHeader { consumed } => {
                    out.forwarded.extend_from_slice(t.header());
                    consumed
                }
                Step::Buffered(n) => n,
                Step::Control { consumed } => {
                    let frame = t.control().to_vec();
                    control_frame_is_sound(rules, &frame);
                    out.forwarded.extend_from_slice(&frame);
                    out.controls.push(frame);
                    consumed
                }
                Step::TooBig => {
                    out.stop = Some("too big".into());
                    out.messages = t.messages();
                    return out;
                }
                Step::ProtocolError(why) | Step::InvalidPayload(why) => {
                    out.stop = Some(why.into());
                    out.messages = t.messages();
                    return out;
                }
            };
            assert!(
                used > 0 && used <= chunk.len(),
                "step used {used} of {}",
                chunk.len()
            );
            chunk = &chunk[used..];
        }
    }
    out.messages = t.messages();
    out
}

fn control_frame_is_sound(rules: Rules, frame: &[u8]) {
    assert!(
        frame.len() <= 2 + 4 + 125,
        "control frame of {} bytes",
        frame.len()
    );
    let h = parse_header(frame);
    assert!(h.fin && h.opcode >= 8 && h.len <= 125, "{h:?}");
    assert_eq!(frame.len(), h.header_len + h.len as usize);
    let (opcode, payload) = control_payload(frame);
    if rules.strict && opcode == 0x8 {
        assert_eq!(rules.check_close(&payload), Ok(()), "a bad close passed");
    }
}

/// The tracker passes bytes through unchanged (what it forwards is a prefix of its input)
/// and decides the same whatever the read sizes: same bytes forwarded, same control frames,
/// same stop, same message count. Every step makes progress.
pub fn frame_tracker(data: &[u8]) {
    let Some((selector, seed, bytes)) = controls(data) else {
        return;
    };
    let rules = Rules {
        strict: selector & 1 != 0,
        masked: selector & 2 != 0,
        extensions: selector & 4 != 0,
    };
    let max = match selector >> 3 {
        0 => u64::MAX,
        n => u64::from(n) * 16,
    };
    let mut whole = drive(rules, max, bytes, &[bytes.len()]);
    let mut split = drive(rules, max, bytes, &cuts(seed.max(1), bytes.len()));
    assert!(
        bytes.starts_with(&whole.forwarded) && bytes.starts_with(&split.forwarded),
        "the tracker changed bytes"
    );
    if whole.stop.as_deref() == Some(NOT_UTF8) {
        // A frame is checked as its bytes arrive: a split read may have passed the valid
        // start of the frame whose later bytes are not UTF-8. The rest must agree.
        assert!(whole.forwarded.len() <= split.forwarded.len());
        whole.forwarded.clear();
        split.forwarded.clear();
    }
    assert_eq!(whole, split, "the read sizes changed the outcome");
}

/// The FirstMessage reader decides the same whatever the read sizes; an accepted message is
/// the unmasked payload of the data frames it kept and fits the limit; and a client sending
/// forever (selector bit 0) is cut off at the message limit plus the pre-auth overhead.
pub fn first_message(data: &[u8]) {
    let Some((selector, seed, bytes)) = controls(data) else {
        return;
    };
    let max = u64::from(selector >> 1) * 32;
    if selector & 1 != 0 {
        let cap = max + PRE_AUTH_OVERHEAD;
        // Far more than the cap, so a reader that stops only at end of stream fails here.
        let limit = cap as usize + 64 * 1024;
        let mut peer = Peer::repeating(bytes, seed, limit);
        let _ = block_on(read_first_message(&mut peer, max));
        // Reading ahead by up to a read buffer is allowed.
        assert!(
            (peer.read as u64) <= cap + 8 * 1024,
            "read {} bytes before refusing (cap {cap})",
            peer.read
        );
        return;
    }
    let whole = block_on(read_first_message(&mut Peer::once(bytes, 0), max));
    let split = block_on(read_first_message(&mut Peer::once(bytes, seed.max(1)), max));
    let summary = |r: &Result<wsgate_tunnel::first_message::FirstMessage, FirstMessageError>| {
        r.as_ref().map(|m| m.payload.clone()).map_err(|e| *e)
    };
    assert_eq!(
        summary(&whole),
        summary(&split),
        "the read sizes changed the outcome"
    );
    if let Ok(m) = whole {
        assert!(
            m.payload.len() as u64 <= max,
            "the message is over the limit"
        );
        assert_eq!(
            unmask_frames(&m.raw),
            m.payload,
            "payload and raw frames disagree"
        );
    }
}

/// The unmasked payloads of consecutive data frames.
fn unmask_frames(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let h = parse_header(raw);
        let end = h.header_len + h.len as usize;
        let from = out.len();
        out.extend_from_slice(&raw[h.header_len..end]);
        if let Some(mask) = h.mask {
            apply_mask(&mut out[from..], mask);
        }
        raw = &raw[end..];
    }
    out
}
