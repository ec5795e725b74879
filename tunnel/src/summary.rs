//! How a tunnel ended: the reason (a metric label and access-log field) and its totals.

/// Why a tunnel ended (metric label and access-log field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The client started the close handshake.
    ClientClose,
    /// The backend started the close handshake.
    BackendClose,
    /// The client's TCP connection ended without a close frame.
    ClientDisconnect,
    /// The backend's TCP connection ended without a close frame.
    BackendDisconnect,
    /// No data message either way for the idle timeout.
    Idle,
    /// A message exceeded `limits.maxMessageBytes`.
    MessageTooBig,
    /// The client did not answer a keepalive ping.
    KeepaliveTimeout,
    /// The endpoint was removed from the route table.
    EndpointRemoved,
    /// wsgate is shutting down.
    Shutdown,
    /// wsgate moved the connection off an overloaded endpoint (rebalancing).
    Rebalanced,
    /// A peer broke the WebSocket framing rules.
    ProtocolError,
    /// A peer sent a text message that is not UTF-8 (strict protocol).
    InvalidPayload,
}

impl CloseReason {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientClose => "client_close",
            Self::BackendClose => "backend_close",
            Self::ClientDisconnect => "client_disconnect",
            Self::BackendDisconnect => "backend_disconnect",
            Self::Idle => "idle_timeout",
            Self::MessageTooBig => "message_too_big",
            Self::KeepaliveTimeout => "keepalive_timeout",
            Self::EndpointRemoved => "endpoint_removed",
            Self::Shutdown => "shutdown",
            Self::Rebalanced => "rebalanced",
            Self::ProtocolError => "protocol_error",
            Self::InvalidPayload => "invalid_payload",
        }
    }
}

/// What happened on a tunnel, for metrics and the access log.
#[derive(Debug, Clone)]
pub struct TunnelSummary {
    /// Why it ended.
    pub reason: CloseReason,
    /// Messages client to backend.
    pub messages_up: u64,
    /// Messages backend to client.
    pub messages_down: u64,
    /// Bytes client to backend.
    pub bytes_up: u64,
    /// Bytes backend to client.
    pub bytes_down: u64,
    /// Who sent the first close frame and its code (`None`: the connection ended without one).
    pub close: Option<(CloseSide, u16)>,
}

/// Who started the WebSocket close handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseSide {
    /// The client.
    Client,
    /// The backend.
    Backend,
    /// wsgate itself (idle, keepalive, drain, shutdown, limits).
    Wsgate,
}

impl CloseSide {
    /// Access-log value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Backend => "backend",
            Self::Wsgate => "wsgate",
        }
    }
}

/// The close code of a complete close frame (1005, "no status", when it carries none),
/// read without copying the frame.
pub(crate) fn close_code(frame: &[u8]) -> u16 {
    let h = crate::frame::parse_header(frame);
    let Some(code) = frame.get(h.header_len..h.header_len + 2) else {
        return 1005;
    };
    let (mut a, mut b) = (code[0], code[1]);
    if let Some(mask) = h.mask {
        a ^= mask[0];
        b ^= mask[1];
    }
    u16::from_be_bytes([a, b])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{OP_CLOSE, close_payload, encode_control};

    #[test]
    fn reads_masked_and_unmasked_close_codes() {
        let payload = close_payload(4001, "bye");
        let mut frame = Vec::new();
        encode_control(&mut frame, OP_CLOSE, &payload, Some([1, 2, 3, 4]));
        assert_eq!(close_code(&frame), 4001);
        frame.clear();
        encode_control(&mut frame, OP_CLOSE, &payload, None);
        assert_eq!(close_code(&frame), 4001);
        frame.clear();
        encode_control(&mut frame, OP_CLOSE, &[], None);
        assert_eq!(close_code(&frame), 1005);
    }
}
