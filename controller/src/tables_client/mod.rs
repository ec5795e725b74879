//! `wsgate proxy --tables-from https://controller:9443`: the data plane fed by a controller's
//! table server (split mode) instead of a routes file, so the proxy needs no Kubernetes API
//! access and no Secret. Not ready until the first table; when the stream drops, the last
//! table stays in force while it reconnects (backoff with jitter), resuming from the last
//! version it has. A table that does not decode is refused with a log naming why.

mod stream;
mod target;

pub use target::{TablesFromArgs, Target};

use std::sync::Arc;
use std::time::Duration;

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wsgate_core::table::RouteTable;
use wsgate_core::table::wire::decode;

use crate::tables_event::Event;

/// First wait before reconnecting; doubles per failed attempt.
const BACKOFF_MIN: Duration = Duration::from_millis(200);
/// Longest wait between attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The stream's metrics.
#[derive(Clone)]
pub struct StreamMetrics {
    up: IntGauge,
    received: IntCounterVec,
}

impl StreamMetrics {
    /// Registers `wsgate_tables_stream_up` and `wsgate_tables_received_total{result}`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let up = IntGauge::new(
            "wsgate_tables_stream_up",
            "1 while the route table stream from the controller is connected",
        )?;
        let received = IntCounterVec::new(
            Opts::new(
                "wsgate_tables_received_total",
                "Route tables received from the controller, by result (applied, unchanged, refused)",
            ),
            &["result"],
        )?;
        registry.register(Box::new(up.clone()))?;
        registry.register(Box::new(received.clone()))?;
        Ok(Self { up, received })
    }
}

/// What the client has: the controller's table it follows and the local version numbers.
struct Have {
    /// `<instance>.<version>` of the last table applied.
    resume: Option<String>,
    /// Version of the last table published to the data plane (its own numbering: a
    /// restarted controller starts again at 1).
    local: u64,
    /// The controller's wsgate version, once warned about a difference.
    warned_version: bool,
}

/// Follows the table server until `stop`, publishing each new table on `tx`.
pub async fn follow(
    target: Target,
    tx: watch::Sender<Arc<RouteTable>>,
    metrics: StreamMetrics,
    stop: CancellationToken,
) {
    let mut have = Have {
        resume: None,
        local: 0,
        warned_version: false,
    };
    let mut backoff = BACKOFF_MIN;
    loop {
        let delivered = tokio::select! {
            _ = stop.cancelled() => return,
            result = session(&target, &mut have, &tx, &metrics) => result,
        };
        metrics.up.set(0);
        let (delivered, error) = delivered;
        let kept = if have.local > 0 {
            "the last table stays in force"
        } else {
            "no table yet"
        };
        tracing::warn!(url = %target.authority, error = %format!("{error:#}"), "route table stream lost; {kept}; reconnecting");
        backoff = if delivered {
            BACKOFF_MIN
        } else {
            (backoff * 2).min(BACKOFF_MAX)
        };
        // Full jitter between half and all of the backoff: proxies that lost the same
        // controller do not come back in step.
        let wait = backoff.mul_f64(0.5 + fastrand::f64() / 2.0);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One connection: returns whether any event arrived, and why it ended.
async fn session(
    target: &Target,
    have: &mut Have,
    tx: &watch::Sender<Arc<RouteTable>>,
    metrics: &StreamMetrics,
) -> (bool, anyhow::Error) {
    let mut lines = match stream::open(target, have.resume.as_deref()).await {
        Ok(lines) => lines,
        Err(e) => return (false, e),
    };
    let mut delivered = false;
    loop {
        let line = match lines.next().await {
            Ok(line) => line,
            Err(e) => return (delivered, e),
        };
        let event: Event<'_> = match serde_json::from_slice(&line) {
            Ok(event) => event,
            Err(e) => return (delivered, anyhow::anyhow!("malformed event: {e}")),
        };
        if !delivered {
            delivered = true;
            metrics.up.set(1);
            tracing::info!(url = %target.authority, instance = %event.instance, "route table stream connected");
        }
        if let Some(table) = event.table {
            receive(&event, table.get().as_bytes(), have, tx, metrics);
        }
    }
}

/// Decodes and publishes a table; a table that does not decode is refused, the last stays.
fn receive(
    event: &Event<'_>,
    json: &[u8],
    have: &mut Have,
    tx: &watch::Sender<Arc<RouteTable>>,
    metrics: &StreamMetrics,
) {
    let ours = env!("CARGO_PKG_VERSION");
    if let Some(theirs) = event.wsgate.as_deref()
        && theirs != ours
        && !std::mem::replace(&mut have.warned_version, true)
    {
        tracing::warn!(
            controller = theirs,
            proxy = ours,
            "the controller runs another wsgate version; run the same on both"
        );
    }
    let table = match decode(json) {
        Ok(table) => table,
        Err(e) => {
            metrics.received.with_label_values(&["refused"]).inc();
            tracing::error!(version = event.version, error = %e, "route table from the controller refused; the last good table stays in force");
            return;
        }
    };
    have.resume = Some(format!("{}.{}", event.instance, event.version));
    let current = tx.borrow().clone();
    if current.version > 0 && current.routes == table.routes && current.refused == table.refused {
        metrics.received.with_label_values(&["unchanged"]).inc();
        return;
    }
    have.local += 1;
    tracing::info!(
        controller_version = event.version,
        version = have.local,
        routes = table.routes.len(),
        "route table received from the controller"
    );
    metrics.received.with_label_values(&["applied"]).inc();
    tx.send_replace(Arc::new(RouteTable {
        version: have.local,
        ..table
    }));
}

#[cfg(test)]
mod tests {
    use wsgate_core::config::load_str;
    use wsgate_core::table::wire::encode;

    use super::*;
    use crate::tables_event::table_line;

    const ROUTES: &str = "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: chat}\nspec:\n  sourceRanges: {allow: [10.0.0.0/8]}\n  rules: [{backend: {addresses: [\"127.0.0.1:9000\"]}}]\n";

    fn feed(line: &[u8], have: &mut Have, tx: &watch::Sender<Arc<RouteTable>>, m: &StreamMetrics) {
        let event: Event<'_> = serde_json::from_slice(line).expect("event");
        let json = event.table.expect("a table").get().as_bytes();
        receive(&event, json, have, tx, m);
    }

    #[test]
    fn tables_are_applied_once_and_a_bad_one_leaves_the_last_in_force() {
        let registry = Registry::new();
        let metrics = StreamMetrics::new(&registry).expect("metrics");
        let count = |result: &str| metrics.received.with_label_values(&[result]).get();
        let (tx, rx) = watch::channel(Arc::new(RouteTable::default()));
        let mut have = Have {
            resume: None,
            local: 0,
            warned_version: false,
        };
        let table = RouteTable {
            version: 5,
            ..load_str(ROUTES).expect("valid").table
        };
        let json = encode(&table).expect("encodes");
        feed(&table_line("first", 5, &json), &mut have, &tx, &metrics);
        assert_eq!(rx.borrow().version, 1, "numbered by the proxy");
        assert_eq!(rx.borrow().routes, table.routes);
        assert_eq!(have.resume.as_deref(), Some("first.5"));

        // A restarted controller sends the same routes as its version 1: nothing to apply.
        feed(&table_line("second", 1, &json), &mut have, &tx, &metrics);
        assert_eq!((rx.borrow().version, count("unchanged")), (1, 1));
        assert_eq!(have.resume.as_deref(), Some("second.1"));

        let text = String::from_utf8(json).expect("utf-8");
        let bad = text.replace("10.0.0.0/8", "10.0.0.0/99");
        assert_ne!(bad, text);
        feed(
            &table_line("second", 2, bad.as_bytes()),
            &mut have,
            &tx,
            &metrics,
        );
        assert_eq!((rx.borrow().version, count("refused")), (1, 1));
        assert_eq!(
            rx.borrow().routes,
            table.routes,
            "the last good table stays"
        );
        assert_eq!(
            have.resume.as_deref(),
            Some("second.1"),
            "resume from the last good"
        );
        assert_eq!(count("applied"), 1);
    }
}
