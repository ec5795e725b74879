//! What a tunnel is given besides its two streams: a narrow policy (size limit, idle,
//! keepalive, drain), the signals that end it, and where it reports its traffic.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::sizes::SizeCounts;

/// The connection policy a tunnel enforces, every default already applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelPolicy {
    /// Largest message either way, in bytes.
    pub max_message_bytes: u64,
    /// No data message either way for this long closes with 1001; `None` disables.
    pub idle_timeout: Option<Duration>,
    /// Control frames between the peers (not wsgate's keepalive) count as traffic too.
    pub idle_counts_control: bool,
    /// Keepalive pings toward the client; `None` disables.
    pub keepalive: Option<Keepalive>,
    /// How a drain (endpoint removed, shutdown) closes the tunnel.
    pub drain: Drain,
    /// Close with 1002 on what RFC 6455 makes a server fail the connection for
    /// (`protocol: Strict`); false passes such frames on (`Passthrough`).
    pub strict: bool,
    /// The handshake negotiated an extension (reserved bits may be set).
    pub extensions: bool,
}

/// Keepalive settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Interval between pings.
    pub interval: Duration,
    /// Time allowed for the matching pong.
    pub pong_timeout: Duration,
}

/// Drain settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drain {
    /// Close code sent on drain.
    pub close_code: u16,
    /// Period the closes are spread over.
    pub period: Duration,
}

/// Messages and bytes relayed (a delta, or a total).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Messages client to backend.
    pub messages_up: u64,
    /// Messages backend to client.
    pub messages_down: u64,
    /// Bytes client to backend (frames as on the wire).
    pub bytes_up: u64,
    /// Bytes backend to client (frames as on the wire).
    pub bytes_down: u64,
    /// Sizes of the messages client to backend.
    pub sizes_up: SizeCounts,
    /// Sizes of the messages backend to client.
    pub sizes_down: SizeCounts,
}

/// Where a tunnel reports traffic as it relays it (metrics); called with deltas only.
pub trait Meter {
    /// Adds `traffic` to the totals.
    fn record(&self, traffic: Traffic);
}

impl<M: Meter + ?Sized> Meter for std::sync::Arc<M> {
    fn record(&self, traffic: Traffic) {
        (**self).record(traffic);
    }
}

/// A meter that records nothing.
impl Meter for () {
    fn record(&self, _: Traffic) {}
}

/// Everything a tunnel needs besides its two streams.
pub struct TunnelConfig<M> {
    /// The policy of the route the connection was accepted with.
    pub policy: TunnelPolicy,
    /// Where traffic is reported.
    pub meter: M,
    /// Fires when the endpoint is removed or wsgate shuts down.
    pub drain: CancellationToken,
    /// A close asked for this connection alone (rebalancing); its token must be a child of
    /// `drain`, which it then replaces as the signal the tunnel watches.
    pub close_request: Option<CloseRequest>,
    /// The process-wide shutdown token (tells a shutdown from an endpoint removal).
    pub shutdown: CancellationToken,
    /// Upper bound for spreading closes during a shutdown.
    pub shutdown_spread: Duration,
}

/// A close asked for one connection: when `token` fires (and the endpoint's drain did not),
/// the tunnel closes at once with `code`.
#[derive(Clone, Debug)]
pub struct CloseRequest {
    /// Cancelled to ask for the close (a child of the endpoint's drain token).
    pub token: CancellationToken,
    /// Close code sent both ways.
    pub code: u16,
}
