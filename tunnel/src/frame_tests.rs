use super::*;

/// Builds a frame; `mask` makes it a client frame.
fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xFFFF => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let start = out.len();
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    let body = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[body..], key);
    }
    let _ = start;
    out
}

/// Feeds `input` in chunks of `chunk` bytes and rebuilds what would be forwarded; control
/// frames are collected separately (and forwarded too).
fn relay(
    tracker: &mut FrameTracker,
    input: &[u8],
    chunk: usize,
) -> (Vec<u8>, Vec<Vec<u8>>, Option<Step>) {
    let mut out = Vec::new();
    let mut controls = Vec::new();
    for piece in input.chunks(chunk) {
        let mut i = 0;
        while i < piece.len() {
            match tracker.step(&piece[i..]) {
                Step::Pass(n) => {
                    out.extend_from_slice(&piece[i..i + n]);
                    i += n;
                }
                Step::PassHeader { consumed } => {
                    out.extend_from_slice(tracker.header());
                    i += consumed;
                }
                Step::Buffered(n) => i += n,
                Step::Control { consumed } => {
                    controls.push(tracker.control().to_vec());
                    out.extend_from_slice(tracker.control());
                    i += consumed;
                }
                stop @ (Step::TooBig | Step::ProtocolError(_) | Step::InvalidPayload(_)) => {
                    return (out, controls, Some(stop));
                }
            }
        }
    }
    (out, controls, None)
}

fn stream() -> Vec<u8> {
    let key = Some([1, 2, 3, 4]);
    let mut s = Vec::new();
    s.extend(frame(true, 0x1, b"hello", key));
    s.extend(frame(false, 0x2, &[9u8; 300], key));
    s.extend(frame(true, 0x9, b"ping!", key));
    s.extend(frame(true, OP_CONTINUATION, &[8u8; 70000], key));
    s.extend(frame(true, OP_CLOSE, &close_payload(1000, "bye"), key));
    s
}

#[test]
fn every_split_forwards_the_stream_unchanged_and_counts_messages() {
    let input = stream();
    for chunk in [1, 2, 3, 5, 7, 13, 64, 1000, 100_000] {
        let mut t = FrameTracker::new(1 << 20);
        let (out, controls, stop) = relay(&mut t, &input, chunk);
        assert_eq!(stop, None, "chunk {chunk}");
        assert!(out == input, "chunk {chunk}: forwarded bytes differ");
        assert_eq!(t.messages(), 2, "chunk {chunk}: text + fragmented binary");
        assert_eq!(
            controls.len(),
            2,
            "chunk {chunk}: ping and close held whole"
        );
        let (op, payload) = control_payload(&controls[1]);
        assert_eq!(op, OP_CLOSE);
        assert_eq!(&payload[..2], &1000u16.to_be_bytes());
        assert_eq!(&payload[2..], b"bye");
        assert!(t.at_boundary());
    }
}

#[test]
fn a_fragmented_message_over_the_limit_stops_before_its_frame() {
    let mut input = frame(false, 0x2, &[0u8; 600], None);
    let first_len = input.len();
    input.extend(frame(true, OP_CONTINUATION, &[0u8; 600], None));
    let mut t = FrameTracker::new(1000);
    let (out, _, stop) = relay(&mut t, &input, 4096);
    assert_eq!(stop, Some(Step::TooBig));
    assert_eq!(
        out.len(),
        first_len,
        "the first fragment passed, nothing of the second"
    );
}

#[test]
fn oversized_control_frames_are_protocol_errors() {
    let mut bad = vec![0x89, 126, 0, 200];
    bad.extend_from_slice(&[0u8; 200]);
    let mut t = FrameTracker::new(1 << 20);
    assert!(matches!(
        relay(&mut t, &bad, 10).2,
        Some(Step::ProtocolError(_))
    ));
    let mut t = FrameTracker::new(1 << 20);
    assert!(matches!(
        relay(&mut t, &[0x09, 0x00], 10).2,
        Some(Step::ProtocolError(_))
    ));
}

#[test]
fn encoded_controls_parse_back_masked_and_unmasked() {
    for mask in [None, Some([9, 8, 7, 6])] {
        let mut out = Vec::new();
        encode_control(
            &mut out,
            OP_CLOSE,
            &close_payload(1009, "message too big"),
            mask,
        );
        let h = parse_header(&out);
        assert_eq!((h.opcode, h.fin, h.mask), (OP_CLOSE, true, mask));
        let (_, payload) = control_payload(&out);
        assert_eq!(&payload[..2], &1009u16.to_be_bytes());
        assert_eq!(&payload[2..], b"message too big");
    }
    // Reasons are cut on a character boundary to fit 125 bytes.
    let long = "é".repeat(100);
    assert!(close_payload(1001, &long).len() <= 125);
}

#[test]
fn l12_strict_tracker_refuses_rfc_6455_violations_at_every_split() {
    use crate::rules::Rules;
    let server = Rules {
        strict: true,
        masked: false,
        extensions: false,
    };
    let key = Some([1, 2, 3, 4]);
    let rsv = {
        let mut f = frame(true, OP_TEXT, b"x", key);
        f[0] |= 0x70;
        f
    };
    let new_inside = [
        frame(false, OP_TEXT, b"a", key),
        frame(true, OP_BINARY, b"b", key),
    ]
    .concat();
    let cases: Vec<(&str, Rules, Vec<u8>)> = vec![
        (
            "unmasked client frame",
            Rules::CLIENT,
            frame(true, OP_TEXT, b"x", None),
        ),
        (
            "masked server frame",
            server,
            frame(true, OP_TEXT, b"x", key),
        ),
        ("reserved bits", Rules::CLIENT, rsv),
        ("opcode 3", Rules::CLIENT, frame(true, 0x3, b"x", key)),
        ("opcode 0xB", Rules::CLIENT, frame(true, 0xB, b"x", key)),
        (
            "orphan continuation",
            Rules::CLIENT,
            frame(true, OP_CONTINUATION, b"x", key),
        ),
        ("new message inside a message", Rules::CLIENT, new_inside),
        (
            "1-byte close",
            Rules::CLIENT,
            frame(true, OP_CLOSE, &[3], key),
        ),
        (
            "close code 999",
            Rules::CLIENT,
            frame(true, OP_CLOSE, &999u16.to_be_bytes(), key),
        ),
    ];
    for (what, rules, input) in cases {
        for chunk in [1, 2, 3, 1000] {
            let mut strict = FrameTracker::with_rules(1 << 20, rules);
            let (_, _, stop) = relay(&mut strict, &input, chunk);
            assert!(
                matches!(stop, Some(Step::ProtocolError(_))),
                "{what}, chunk {chunk}: {stop:?}"
            );
            let mut passthrough = FrameTracker::new(1 << 20);
            let (out, _, stop) = relay(&mut passthrough, &input, chunk);
            assert_eq!(stop, None, "{what} passes in Passthrough");
            assert!(out == input, "{what}: forwarded unchanged in Passthrough");
        }
    }
    // The stream of valid frames passes Strict unchanged (masked client frames).
    let input = stream();
    let mut t = FrameTracker::with_rules(1 << 20, Rules::CLIENT);
    let (out, _, stop) = relay(&mut t, &input, 7);
    assert_eq!(stop, None);
    assert!(out == input);
}

#[test]
fn utf8_strict_text_messages_are_checked_across_reads_and_frames() {
    let key = Some([0x37, 0xFA, 0x21, 0x3D]);
    let mut good = frame(false, OP_TEXT, b"caf\xC3", key);
    good.extend(frame(
        true,
        OP_CONTINUATION,
        &[b"\xA9", " 日本 🎉".as_bytes()].concat(),
        key,
    ));
    let mut bad = frame(false, OP_TEXT, b"caf\xC3", key);
    bad.extend(frame(true, OP_CONTINUATION, b"(", key));
    let cut_short = frame(true, OP_TEXT, b"caf\xC3", key);
    let binary = frame(true, OP_BINARY, b"\xFF\xFE", key);
    for chunk in 1..=good.len() {
        let (out, _, stop) = relay(
            &mut FrameTracker::with_rules(1 << 20, Rules::CLIENT),
            &good,
            chunk,
        );
        assert_eq!(
            (out.len(), stop),
            (good.len(), None),
            "valid, chunks of {chunk}"
        );
        for wrong in [&bad, &cut_short] {
            let (_, _, stop) = relay(
                &mut FrameTracker::with_rules(1 << 20, Rules::CLIENT),
                wrong,
                chunk,
            );
            assert!(
                matches!(stop, Some(Step::InvalidPayload(_))),
                "chunks of {chunk}"
            );
        }
        let (out, _, stop) = relay(
            &mut FrameTracker::with_rules(1 << 20, Rules::CLIENT),
            &binary,
            chunk,
        );
        assert_eq!(
            (out.len(), stop),
            (binary.len(), None),
            "binary is not text"
        );
    }
    // Passthrough leaves it to the endpoints; so does a compressed message.
    let (out, _, stop) = relay(&mut FrameTracker::new(1 << 20), &bad, 3);
    assert_eq!((out.len(), stop), (bad.len(), None));
    let deflate = Rules {
        extensions: true,
        ..Rules::CLIENT
    };
    let mut compressed = frame(true, OP_TEXT, b"\xFF", key);
    compressed[0] |= 0x40;
    let (out, _, stop) = relay(
        &mut FrameTracker::with_rules(1 << 20, deflate),
        &compressed,
        2,
    );
    assert_eq!((out.len(), stop), (compressed.len(), None));
    // Server frames are unmasked.
    let server = Rules {
        masked: false,
        ..Rules::CLIENT
    };
    let plain = frame(true, OP_TEXT, b"ok \xC3\xA9", None);
    let (_, _, stop) = relay(&mut FrameTracker::with_rules(1 << 20, server), &plain, 1);
    assert_eq!(stop, None);
    let (_, _, stop) = relay(
        &mut FrameTracker::with_rules(1 << 20, server),
        &frame(true, OP_TEXT, b"\xED\xA0\x80", None),
        4,
    );
    assert!(matches!(stop, Some(Step::InvalidPayload(_))), "a surrogate");
}
