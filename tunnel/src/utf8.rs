//! Incremental UTF-8 validation of text messages as their bytes stream past (RFC 6455 8.1:
//! an endpoint fails the connection with 1007 on invalid UTF-8 in a text message). Three
//! bytes of state, no buffer: a code point split across reads or frames is checked as its
//! bytes arrive.

/// Where a UTF-8 sequence stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8 {
    /// Continuation bytes still expected.
    need: u8,
    /// Smallest and largest value the next continuation byte may have (excludes overlong
    /// forms, surrogates and code points past U+10FFFF).
    lo: u8,
    hi: u8,
}

impl Default for Utf8 {
    fn default() -> Self {
        Self::START
    }
}

impl Utf8 {
    /// Between code points.
    pub const START: Utf8 = Utf8 {
        need: 0,
        lo: 0x80,
        hi: 0xBF,
    };

    /// Feeds `bytes`, unmasked with `mask` from mask offset `at`; false on invalid UTF-8.
    pub fn feed(&mut self, bytes: &[u8], mask: Option<[u8; 4]>, at: usize) -> bool {
        match mask {
            None => self.feed_plain(bytes),
            Some(m) => bytes
                .iter()
                .enumerate()
                .all(|(i, b)| self.byte(b ^ m[(at + i) & 3])),
        }
    }

    /// Unmasked bytes: the code point left open by the previous read is finished byte by
    /// byte, the rest checked by the standard library's vectorised validator.
    fn feed_plain(&mut self, mut bytes: &[u8]) -> bool {
        while self.need > 0 {
            let Some((b, rest)) = bytes.split_first() else {
                return true;
            };
            if !self.byte(*b) {
                return false;
            }
            bytes = rest;
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            // Cut short at the end: remember where the last code point stands.
            Err(e) => bytes[e.valid_up_to()..].iter().all(|b| self.byte(*b)),
        }
    }

    /// True when no code point is left unfinished (the message may end here).
    pub fn complete(&self) -> bool {
        self.need == 0
    }

    fn byte(&mut self, b: u8) -> bool {
        if self.need == 0 {
            if b < 0x80 {
                return true;
            }
            let (need, lo, hi) = match b {
                0xC2..=0xDF => (1, 0x80, 0xBF),
                0xE0 => (2, 0xA0, 0xBF),
                0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
                0xED => (2, 0x80, 0x9F),
                0xF0 => (3, 0x90, 0xBF),
                0xF1..=0xF3 => (3, 0x80, 0xBF),
                0xF4 => (3, 0x80, 0x8F),
                _ => return false,
            };
            *self = Utf8 { need, lo, hi };
            return true;
        }
        if b < self.lo || b > self.hi {
            return false;
        }
        *self = Utf8 {
            need: self.need - 1,
            ..Self::START
        };
        true
    }
}

/// The UTF-8 check of the text message passing one way: whether it applies, where the
/// message's UTF-8 stands, and how to unmask the frame in progress.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextCheck {
    on: bool,
    utf8: Utf8,
    mask: Option<[u8; 4]>,
    /// Offset of the frame's next payload byte, mod 4 (for the mask).
    at: u8,
    fin: bool,
}

impl TextCheck {
    /// A data frame begins. `starts`: it starts a message, to be checked (`Some(true)`: a
    /// text message under strict rules) or not; `None`: a continuation of the message.
    pub fn begin(&mut self, starts: Option<bool>, mask: Option<[u8; 4]>, fin: bool) {
        if let Some(check) = starts {
            self.on = check;
            self.utf8 = Utf8::START;
        }
        self.mask = mask;
        self.at = 0;
        self.fin = fin;
    }

    /// The next `payload` bytes of the frame pass (`frame_end`: the last ones); false when
    /// they prove the message is not UTF-8 (a final frame must end on a whole code point).
    pub fn pass(&mut self, payload: &[u8], frame_end: bool) -> bool {
        if !self.on {
            return true;
        }
        let ok = self.utf8.feed(payload, self.mask, usize::from(self.at));
        self.at = ((usize::from(self.at) + payload.len()) & 3) as u8;
        ok && !(frame_end && self.fin && !self.utf8.complete())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_in_pieces(bytes: &[u8], piece: usize) -> bool {
        let mut u = Utf8::START;
        bytes.chunks(piece).all(|c| u.feed(c, None, 0)) && u.complete()
    }

    #[test]
    fn agrees_with_the_standard_library_in_any_split() {
        let samples: [&[u8]; 12] = [
            b"hello",
            "grüße, 日本, 🎉".as_bytes(),
            b"\xC0\x80",         // overlong NUL
            b"\xE0\x80\xAF",     // overlong '/'
            b"\xED\xA0\x80",     // surrogate
            b"\xF4\x90\x80\x80", // past U+10FFFF
            b"\xF5\x80\x80\x80",
            b"\x80",
            b"\xE2\x82", // cut short
            b"\xEF\xBF\xBF",
            b"\xF0\x9F\x8E\x89",
            b"a\xFFb",
        ];
        for s in samples {
            let want = std::str::from_utf8(s).is_ok();
            for piece in 1..=s.len() {
                assert_eq!(
                    valid_in_pieces(s, piece),
                    want,
                    "{s:?} in pieces of {piece}"
                );
            }
        }
    }

    #[test]
    fn unmasks_from_the_frame_offset() {
        let text = "é!".as_bytes();
        let mask = [0x11, 0x22, 0x33, 0x44];
        let masked: Vec<u8> = text
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i & 3])
            .collect();
        let mut u = Utf8::START;
        assert!(u.feed(&masked[..1], Some(mask), 0));
        assert!(u.feed(&masked[1..], Some(mask), 1));
        assert!(u.complete());
    }
}
