//! The relay step, last on the request path: after `101`, the tunnel runs on both upgraded
//! streams in a task of its own, and its end is accounted for in one place (active gauge,
//! duration, close reason, the access-log line) whichever path opened it.
//!
//! ```text
//!   upgrade ──────── start(client upgrade, backend upgrade) ─┐
//!   FirstMessage ─── run(client stream, backend stream) ─────┴─> wsgate_tunnel::run ─> metrics, access log
//! ```

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::upgrade::OnUpgrade;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wsgate_tunnel::{CloseRequest, TunnelConfig, TunnelPolicy, TunnelSummary};

use crate::access::Access;
use crate::balance::endpoint::EndpointGuard;
use crate::metrics::{RouteHandles, TunnelMetrics};
use crate::policy::limiter::ConnPermit;
use crate::relay_stream;

/// What a tunnel holds for its whole life besides its streams.
pub struct Relay {
    /// The access-log line of the handshake, written at close.
    pub access: Option<Box<Access>>,
    /// Route label (metrics, log).
    pub label: Arc<str>,
    /// The route's metric handles.
    pub metrics: Arc<RouteHandles>,
    /// The route's tunnel policy, as accepted.
    pub policy: TunnelPolicy,
    /// The endpoint lease: counts the tunnel on its endpoint and carries its drain signal.
    pub endpoint: EndpointGuard,
    /// The connection's place under the route's limits (held for its drop).
    pub _permit: ConnPermit,
    /// The client, for the access log.
    pub client: IpAddr,
    /// How the client authenticated, when the access log should say (`first_message`).
    pub auth: Option<&'static str>,
    /// Close code of a route with rebalancing (the tunnel is then movable).
    pub rebalance: Option<u16>,
}

/// The tunnels of the process: spawned here, drained and waited for on shutdown.
#[derive(Clone)]
pub struct Tunnels {
    tracker: TaskTracker,
    metrics: TunnelMetrics,
    shutdown: CancellationToken,
    shutdown_spread: Duration,
}

impl Tunnels {
    /// Tunnels whose closes on shutdown are spread over at most `shutdown_spread`.
    pub fn new(
        metrics: TunnelMetrics,
        shutdown: CancellationToken,
        shutdown_spread: Duration,
    ) -> Self {
        Self {
            tracker: TaskTracker::new(),
            metrics,
            shutdown,
            shutdown_spread,
        }
    }

    /// Spawns the tunnel of an upgraded request: waits for both sides' upgrades, then runs.
    pub fn start(&self, relay: Relay, client: OnUpgrade, backend: OnUpgrade) {
        let tunnels = self.clone();
        self.tracker.spawn(async move {
            match tokio::try_join!(client, backend) {
                Ok((c, b)) => {
                    let (c, b) = (relay_stream::client(c), relay_stream::backend(b));
                    tunnels.run(&relay, c, b).await;
                }
                Err(e) => {
                    tracing::info!(route = %relay.label, client = %relay.client, error = %e, "upgrade did not complete");
                }
            }
        });
    }

    /// Spawns a task that ends in a tunnel (it is waited for on shutdown like one).
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// The tunnel between two upgraded streams, run to its end and accounted for. The
    /// tunnel is built before the returned future is, and awaited in place, so an idle
    /// connection's task holds its streams and state once.
    pub fn run<'a, C, B>(
        &'a self,
        relay: &'a Relay,
        client: C,
        backend: B,
    ) -> impl Future<Output = ()> + 'a
    where
        C: AsyncRead + AsyncWrite + Unpin + 'a,
        B: AsyncRead + AsyncWrite + Unpin + 'a,
    {
        // Enlisted from now on, so a handshake is never moved; leaves when the tunnel ends.
        let enlisted = relay
            .rebalance
            .map(|code| (relay.endpoint.endpoint().enlist(relay.label.clone()), code));
        let cfg = TunnelConfig {
            policy: relay.policy,
            meter: relay.metrics.clone(),
            drain: relay.endpoint.endpoint().drain.clone(),
            close_request: enlisted.as_ref().map(|(e, code)| CloseRequest {
                token: e.token.clone(),
                code: *code,
            }),
            shutdown: self.shutdown.clone(),
            shutdown_spread: self.shutdown_spread,
        };
        let mut tunnel = wsgate_tunnel::run(client, backend, cfg);
        let [ns, name] = crate::metrics::route_labels(&relay.label);
        let endpoint = relay.endpoint.endpoint().addr.to_string();
        let active = self
            .metrics
            .active
            .with_label_values(&[ns, name, &endpoint]);
        active.inc();
        let opened = Instant::now();
        async move {
            let summary = (&mut tunnel).await;
            drop(enlisted);
            active.dec();
            self.record(relay, opened, &summary);
        }
    }

    /// A tunnel's end: duration, close reason and the access-log line.
    fn record(&self, relay: &Relay, opened: Instant, summary: &TunnelSummary) {
        let label = &*relay.label;
        let [ns, name] = crate::metrics::route_labels(label);
        let secs = opened.elapsed().as_secs_f64();
        relay.metrics.duration.observe(secs);
        let close = summary.reason.as_str();
        let code = summary.close.map(|(_, code)| code.to_string());
        self.metrics
            .closes
            .with_label_values(&[ns, name, close, code.as_deref().unwrap_or("")])
            .inc();
        if let Some(access) = &relay.access {
            access.websocket_closed(summary, relay.auth);
        }
    }

    /// Stops taking new tunnels (those running go on).
    pub fn close(&self) {
        self.tracker.close();
    }

    /// Tunnels still running.
    pub fn len(&self) -> usize {
        self.tracker.len()
    }

    /// Waits until every tunnel has ended (after [`Tunnels::close`]).
    pub async fn wait(&self) {
        self.tracker.wait().await;
    }
}
