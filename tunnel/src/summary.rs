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
    /// A peer broke the WebSocket framing rules.
    ProtocolError,
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
            Self::ProtocolError => "protocol_error",
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
}
