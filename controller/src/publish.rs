//! The index task: applies watch changes to the translation index, rebuilds after a short
//! quiet period, and publishes a new route table only when the routes changed. Nothing is
//! published (version 0, not ready) until every watch has listed once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use wsgate_core::table::{RefusedRoute, RouteTable};

use crate::crd::WebSocketRouteStatus;
use crate::metrics::ControllerMetrics;
use crate::translate::gateway_reports::{GatewayCurrent, GatewayReports};
use crate::translate::report::{Report, SourceKind, SourceRef};
use crate::translate::{Index, Kind, ObjectKey};
use crate::watch::Change;

/// Quiet time after a change before rebuilding (bursts become one rebuild).
pub const DEBOUNCE: Duration = Duration::from_millis(100);
/// Longest a rebuild waits while changes keep coming.
pub const MAX_DELAY: Duration = Duration::from_secs(1);

/// What the status writer needs from a rebuild.
#[derive(Clone, Debug, Default)]
pub struct StatusInput {
    /// Verdicts per object.
    pub reports: BTreeMap<SourceRef, Report>,
    /// The status each WebSocketRoute carries now (to keep transition times).
    pub current: BTreeMap<ObjectKey, Option<WebSocketRouteStatus>>,
    /// Verdicts on the Gateway API objects wsgate serves.
    pub gateway: GatewayReports,
    /// Their status now.
    pub gateway_current: GatewayCurrent,
}

/// Channels the index task publishes on.
pub struct Outputs {
    /// Route tables for the proxy.
    pub tables: watch::Sender<Arc<RouteTable>>,
    /// Reports for the status writer.
    pub statuses: watch::Sender<Arc<StatusInput>>,
    /// The index as of each rebuild, for the validating webhook (`None`: webhooks off, no
    /// copy kept).
    pub snapshot: Option<watch::Sender<Arc<Index>>>,
}

/// Runs the index until `shutdown` or until every watcher is gone.
pub async fn run(
    mut index: Index,
    mut changes: mpsc::Receiver<Change>,
    watchers: usize,
    out: Outputs,
    metrics: ControllerMetrics,
    shutdown: CancellationToken,
) {
    let mut synced: HashSet<(Kind, Option<String>)> = HashSet::new();
    let mut version = 0u64;
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return,
            change = changes.recv() => match change {
                Some(c) => c,
                None => return,
            },
        };
        apply(&mut index, first, &mut synced);
        let deadline = tokio::time::Instant::now() + MAX_DELAY;
        loop {
            let quiet = tokio::time::sleep(DEBOUNCE);
            tokio::select! {
                _ = quiet => break,
                _ = tokio::time::sleep_until(deadline) => break,
                change = changes.recv() => match change {
                    Some(c) => apply(&mut index, c, &mut synced),
                    None => break,
                },
            }
        }
        if synced.len() < watchers {
            continue;
        }
        rebuild(&index, &mut version, &out, &metrics);
    }
}

fn apply(index: &mut Index, change: Change, synced: &mut HashSet<(Kind, Option<String>)>) {
    match change {
        Change::Apply(object) => index.apply(object),
        Change::Delete(kind, key) => index.delete(kind, &key),
        Change::Reset {
            kind,
            namespace,
            objects,
        } => {
            index.reset(kind, namespace.as_deref(), objects);
            synced.insert((kind, namespace));
        }
    }
}

/// Builds, and publishes the table if its routes changed; reports are always refreshed.
fn rebuild(index: &Index, version: &mut u64, out: &Outputs, metrics: &ControllerMetrics) {
    let started = Instant::now();
    let translation = index.build();
    metrics.rebuilds.inc();
    metrics
        .rebuild_seconds
        .observe(started.elapsed().as_secs_f64());
    let mut routes = translation.routes;
    wsgate_core::table::share::share_policies(&mut routes);
    let routes: Arc<[_]> = Arc::from(routes);
    let refused = refused_routes(&translation.reports);
    let changed = *version == 0 || {
        let current = out.tables.borrow();
        current.routes != routes || current.refused != refused
    };
    if changed {
        *version += 1;
        tracing::info!(version = *version, routes = routes.len(), took = ?started.elapsed(), "publishing route table");
        out.tables.send_replace(Arc::new(RouteTable {
            version: *version,
            routes,
            refused,
        }));
    }
    count_conditions(&translation.reports, metrics);
    let current = translation
        .reports
        .keys()
        .filter(|s| s.kind == SourceKind::Route)
        .map(|s| {
            let key = ObjectKey::new(&s.namespace, &s.name);
            let status = index.route(&key).and_then(|r| r.status.clone());
            (key, status)
        })
        .collect();
    let gateway_current = index.gateway_current(&translation.gateway);
    out.statuses.send_replace(Arc::new(StatusInput {
        reports: translation.reports,
        current,
        gateway: translation.gateway,
        gateway_current,
    }));
    if let Some(snapshot) = &out.snapshot {
        snapshot.send_replace(Arc::new(index.clone()));
    }
}

/// The objects translation did not accept, with the reason of their `Accepted` condition.
fn refused_routes(reports: &BTreeMap<SourceRef, Report>) -> Arc<[RefusedRoute]> {
    reports
        .iter()
        .filter(|(_, r)| !r.accepted.status)
        .map(|(source, r)| RefusedRoute {
            source: source.to_string(),
            reason: r.accepted.reason.clone(),
            message: r.accepted.message.clone(),
        })
        .collect()
}

fn count_conditions(reports: &BTreeMap<SourceRef, Report>, metrics: &ControllerMetrics) {
    metrics.objects_by_condition.reset();
    for (source, report) in reports {
        let kind = source.kind.kind();
        for (type_, verdict) in report.conditions() {
            metrics
                .objects_by_condition
                .with_label_values(&[kind, type_, verdict.status_text()])
                .inc();
        }
    }
}
