//! The RFC 6455 rules a server must fail a connection for (section 5 and 7.4), checked on
//! frame headers and close payloads as they pass. Text messages are also checked for UTF-8
//! as they pass (`crate::utf8`); binary payloads are never looked at.

/// Which rules apply to one direction of a tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Enforce the rules below; off passes every frame the framing allows (`Passthrough`).
    pub strict: bool,
    /// Frames this way must be masked (client to server) or must not be (server to client).
    pub masked: bool,
    /// An extension was negotiated, so reserved bits may be set.
    pub extensions: bool,
}

impl Rules {
    /// Only the framing itself is checked (control frames at most 125 bytes, never fragmented).
    pub const PASSTHROUGH: Rules = Rules {
        strict: false,
        masked: false,
        extensions: false,
    };

    /// Strict rules for frames sent by a client (masked, no extension).
    pub const CLIENT: Rules = Rules {
        strict: true,
        masked: true,
        extensions: false,
    };

    /// Checks a frame header: reserved bits, mask, opcode, and where a data frame may start
    /// (`in_message`: a fragmented message is in progress).
    pub fn check(
        &self,
        rsv: u8,
        opcode: u8,
        masked: bool,
        in_message: bool,
    ) -> Result<(), &'static str> {
        if !self.strict {
            return Ok(());
        }
        if rsv != 0 && !self.extensions {
            return Err("reserved bits set without an extension");
        }
        if masked != self.masked {
            return Err(if self.masked {
                "client frames must be masked"
            } else {
                "server frames must not be masked"
            });
        }
        match opcode {
            0x0 if !in_message => Err("continuation frame outside a message"),
            0x1 | 0x2 if in_message => Err("new message inside a fragmented message"),
            0x0..=0x2 | 0x8..=0xA => Ok(()),
            _ => Err("unknown opcode"),
        }
    }

    /// Checks the (unmasked) payload of a close frame: empty, or a valid code and a UTF-8
    /// reason.
    pub fn check_close(&self, payload: &[u8]) -> Result<(), &'static str> {
        if !self.strict || payload.is_empty() {
            return Ok(());
        }
        let [a, b, reason @ ..] = payload else {
            return Err("close payload of 1 byte");
        };
        if !valid_close_code(u16::from_be_bytes([*a, *b])) {
            return Err("invalid close code");
        }
        std::str::from_utf8(reason)
            .map(|_| ())
            .map_err(|_| "close reason is not UTF-8")
    }
}

/// Close codes an endpoint may send (RFC 6455 7.4.1, the IANA registry, private use).
pub fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014) || (3000..=4999).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: Rules = Rules {
        strict: true,
        masked: false,
        extensions: false,
    };

    #[test]
    fn l12_strict_rules_refuse_what_rfc_6455_makes_a_server_fail() {
        assert_eq!(Rules::CLIENT.check(0, 1, true, false), Ok(()));
        assert!(Rules::CLIENT.check(0, 1, false, false).is_err(), "unmasked");
        assert!(SERVER.check(0, 1, true, false).is_err(), "masked server");
        assert!(Rules::CLIENT.check(4, 1, true, false).is_err(), "RSV1");
        let deflate = Rules {
            extensions: true,
            ..Rules::CLIENT
        };
        assert_eq!(deflate.check(4, 1, true, false), Ok(()));
        for op in [3, 7, 0xB, 0xF] {
            assert!(Rules::CLIENT.check(0, op, true, false).is_err(), "{op}");
        }
        assert!(Rules::CLIENT.check(0, 0, true, false).is_err(), "orphan");
        assert!(Rules::CLIENT.check(0, 2, true, true).is_err(), "new inside");
        assert_eq!(Rules::CLIENT.check(0, 9, true, true), Ok(()), "ping inside");
        assert!(Rules::CLIENT.check_close(&[3]).is_err());
        assert!(Rules::CLIENT.check_close(&999u16.to_be_bytes()).is_err());
        assert!(Rules::CLIENT.check_close(&[3, 232, 0xFF]).is_err());
        assert_eq!(Rules::CLIENT.check_close(&[3, 232, b'o', b'k']), Ok(()));
        assert_eq!(Rules::CLIENT.check_close(&[]), Ok(()));
        for bad in [(4, 3, false), (0, 0, false)] {
            assert_eq!(Rules::PASSTHROUGH.check(bad.0, bad.1, bad.2, false), Ok(()));
        }
        assert_eq!(Rules::PASSTHROUGH.check_close(&[3]), Ok(()));
    }
}
