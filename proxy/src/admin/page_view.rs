//! What the admin page shows, read in one pass from the router in force, live endpoint state,
//! the metrics registry and the ring of recent refusals. Counts come from the same series
//! `/metrics` serves, so the page and a dashboard agree. Nothing secret is read: no ticket
//! keys, passwords, store URLs, paths or query strings.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prometheus::core::Collector;
use prometheus::proto::MetricType;
use wsgate_core::table::{HostMatch, PathMatch, RefusedRoute};

use super::refusals::{BACKEND_REJECTED, Refused};
use crate::route::{BackendRuntime, RouteRuntime};
use crate::state::State;

/// Routes listed at most, so a page of a huge table stays quick to build and to read.
pub const MAX_ROUTES: usize = 500;
/// Endpoints listed per rule (a Service may have hundreds).
pub const MAX_ENDPOINTS: usize = 50;
/// Latest refusals listed one by one.
pub const LATEST: usize = 20;

/// Everything the page shows.
pub struct PageView {
    /// `ready`, `draining`, `shutting down` or `no route table yet`.
    pub status: &'static str,
    /// When the page was built.
    pub now: SystemTime,
    /// Seconds after which the browser reloads the page (`?refresh=`), if asked.
    pub refresh: Option<u32>,
    /// Version of the route table in force (0: none yet).
    pub table_version: u64,
    /// When that table was applied.
    pub applied_at: Option<SystemTime>,
    /// Route-table loads applied and rejected since start.
    pub reloads_applied: u64,
    /// Rejected loads (the last good table stayed in force).
    pub reloads_rejected: u64,
    /// Open WebSockets, all routes.
    pub open_websockets: u64,
    /// Routes of the table, in precedence order.
    pub routes: Vec<RouteRow>,
    /// Routes of the table not listed (beyond [`MAX_ROUTES`]).
    pub more_routes: usize,
    /// Route objects left out of the table, and why.
    pub refused_routes: Arc<[RefusedRoute]>,
    /// Certificates served, soonest expiry first.
    pub certificates: Vec<CertRow>,
    /// Refusals by reason.
    pub reasons: Vec<ReasonRow>,
    /// The latest refusals, newest first.
    pub latest: Vec<Refused>,
}

/// A route of the table.
pub struct RouteRow {
    /// `namespace/name`.
    pub label: Arc<str>,
    /// Host matches (`*.example.com`); empty: every host.
    pub hosts: Vec<String>,
    /// Rules in order.
    pub rules: Vec<RuleRow>,
    /// Open WebSockets on the route.
    pub websockets: u64,
    /// What keeps it from serving fully (empty: nothing).
    pub problems: Vec<String>,
}

/// A rule: path and backend.
pub struct RuleRow {
    /// `/chat` (prefix) or `= /exact`.
    pub path: String,
    /// Endpoints (up to [`MAX_ENDPOINTS`]), or why the backend cannot be used.
    pub backend: Result<Vec<EndpointRow>, Arc<str>>,
    /// Endpoints not listed.
    pub more_endpoints: usize,
}

/// An endpoint of a rule.
pub struct EndpointRow {
    /// Address.
    pub addr: SocketAddr,
    /// The route's open WebSockets to it.
    pub websockets: u64,
    /// Its open WebSockets and in-flight requests, all routes.
    pub active: u64,
    /// `None` while healthy, else the time until it is tried again.
    pub ejected_for: Option<Duration>,
}

/// A certificate served for a host.
pub struct CertRow {
    /// Host (`*` for the default certificate).
    pub host: String,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
}

/// Refusals of one reason.
pub struct ReasonRow {
    /// Metric reason.
    pub reason: String,
    /// Since start (`wsgate_request_errors_total`).
    pub total: u64,
    /// Among the refusals kept in the ring.
    pub recent: u64,
    /// The latest one kept, if any.
    pub last: Option<Refused>,
}

/// Builds the view from `state`.
pub fn build(state: &State) -> PageView {
    let m = &state.metrics;
    let router = state.router.load();
    let table = router.table();
    let websockets = by_labels(&m.tunnels.active, &["namespace", "route", "endpoint"]);
    let cert_errors = by_labels(&m.tls.certificate_errors, &["namespace", "route"]);
    let routes = router
        .routes()
        .iter()
        .zip(table.routes.iter())
        .take(MAX_ROUTES)
        .map(|(rt, route)| {
            let mut row = route_row(rt, &websockets);
            row.hosts = route.hostnames.iter().map(host_text).collect();
            for (rule, path) in row.rules.iter_mut().zip(route.rules.iter()) {
                rule.path = path_text(&path.path);
            }
            if cert_errors
                .get(&label_key(&rt.label))
                .is_some_and(|v| *v > 0.0)
            {
                row.problems
                    .push("its certificate cannot be used (see the log)".into());
            }
            row
        })
        .collect();
    let reloads = by_labels(&m.table.reloads, &["result"]);
    let applied = m.table.applied_at.get();
    let recent = state.refusals.newest_first();
    PageView {
        status: status(state),
        now: SystemTime::now(),
        refresh: None,
        table_version: table.version,
        applied_at: (applied > 0.0)
            .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(applied)),
        reloads_applied: count(&reloads, "applied"),
        reloads_rejected: count(&reloads, "rejected"),
        open_websockets: websockets.values().sum::<f64>() as u64,
        more_routes: router.routes().len().saturating_sub(MAX_ROUTES),
        routes,
        refused_routes: table.refused.clone(),
        certificates: certificates(state),
        reasons: reasons(state, &recent),
        latest: recent.into_iter().take(LATEST).collect(),
    }
}

fn status(state: &State) -> &'static str {
    if state.shutdown.is_cancelled() {
        "shutting down"
    } else if state.draining.is_cancelled() {
        "draining"
    } else if state.is_ready() {
        "ready"
    } else {
        "no route table yet"
    }
}

fn route_row(rt: &RouteRuntime, websockets: &HashMap<Vec<String>, f64>) -> RouteRow {
    let [ns, name] = crate::metrics::route_labels(&rt.label);
    let mut problems = Vec::new();
    let mut total = 0u64;
    let rules = rt
        .rules
        .iter()
        .map(|rule| {
            let backend = match &rule.backend {
                BackendRuntime::Invalid(reason) | BackendRuntime::Misconfigured(reason) => {
                    problems.push(format!("backend unavailable: {reason}"));
                    Err(reason.clone())
                }
                BackendRuntime::Endpoints(balancer) => {
                    let candidates = &balancer.candidates;
                    if !candidates.iter().any(|c| c.state.is_healthy()) {
                        problems.push("no healthy endpoint".into());
                    }
                    let key =
                        |addr: SocketAddr| vec![ns.to_string(), name.to_string(), addr.to_string()];
                    Ok(candidates
                        .iter()
                        .take(MAX_ENDPOINTS)
                        .map(|c| EndpointRow {
                            addr: c.state.addr,
                            websockets: websockets.get(&key(c.state.addr)).copied().unwrap_or(0.0)
                                as u64,
                            active: c.state.active(),
                            ejected_for: (!c.state.is_healthy()).then(|| c.state.retry_in()),
                        })
                        .collect())
                }
            };
            let more_endpoints = match &rule.backend {
                BackendRuntime::Endpoints(b) => b.candidates.len().saturating_sub(MAX_ENDPOINTS),
                BackendRuntime::Invalid(_) | BackendRuntime::Misconfigured(_) => 0,
            };
            RuleRow {
                path: String::new(),
                backend,
                more_endpoints,
            }
        })
        .collect();
    for (key, v) in websockets {
        if key[0] == ns && key[1] == name {
            total += *v as u64;
        }
    }
    problems.dedup();
    RouteRow {
        label: rt.label.clone(),
        hosts: Vec::new(),
        rules,
        websockets: total,
        problems,
    }
}

fn host_text(h: &HostMatch) -> String {
    match h {
        HostMatch::Exact(h) => h.clone(),
        HostMatch::Wildcard(suffix) => format!("*{suffix}"),
    }
}

fn path_text(p: &PathMatch) -> String {
    match p {
        PathMatch::Prefix(p) => p.clone(),
        PathMatch::Exact(p) => format!("= {p}"),
    }
}

fn certificates(state: &State) -> Vec<CertRow> {
    let mut rows: Vec<CertRow> = by_labels(&state.metrics.tls.certificate_expiry, &["host"])
        .into_iter()
        .map(|(mut key, v)| CertRow {
            host: key.pop().unwrap_or_default(),
            not_after: v as i64,
        })
        .collect();
    rows.sort_by(|a, b| a.not_after.cmp(&b.not_after).then(a.host.cmp(&b.host)));
    rows
}

fn reasons(state: &State, recent: &[Refused]) -> Vec<ReasonRow> {
    let mut rows: BTreeMap<String, ReasonRow> = BTreeMap::new();
    for (mut key, v) in by_labels(&state.metrics.requests.errors, &["reason"]) {
        let reason = key.pop().unwrap_or_default();
        rows.insert(reason.clone(), reason_row(reason, v as u64));
    }
    // The endpoints' own refusals of upgrades are counted as a handshake result.
    let handshakes = by_labels(&state.metrics.requests.handshakes, &["result"]);
    let rejected = count(&handshakes, BACKEND_REJECTED);
    if rejected > 0 {
        rows.insert(
            BACKEND_REJECTED.into(),
            reason_row(BACKEND_REJECTED.into(), rejected),
        );
    }
    for r in recent {
        let row = rows
            .entry(r.reason.to_string())
            .or_insert_with(|| reason_row(r.reason.to_string(), 0));
        row.recent += 1;
        if row.last.is_none() {
            row.last = Some(r.clone());
        }
    }
    let mut rows: Vec<ReasonRow> = rows.into_values().collect();
    rows.sort_by_key(|r| std::cmp::Reverse((r.recent, r.total)));
    rows
}

fn reason_row(reason: String, total: u64) -> ReasonRow {
    ReasonRow {
        reason,
        total,
        recent: 0,
        last: None,
    }
}

fn label_key(label: &str) -> Vec<String> {
    crate::metrics::route_labels(label)
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn count(series: &HashMap<Vec<String>, f64>, value: &str) -> u64 {
    series.get(&vec![value.to_string()]).copied().unwrap_or(0.0) as u64
}

/// Every series of a counter or gauge family, keyed by the values of `names` in that order.
fn by_labels(c: &dyn Collector, names: &[&str]) -> HashMap<Vec<String>, f64> {
    let mut out = HashMap::new();
    for family in c.collect() {
        let kind = family.get_field_type();
        for metric in family.get_metric() {
            let labels: HashMap<&str, &str> = metric
                .get_label()
                .iter()
                .map(|l| (l.name(), l.value()))
                .collect();
            let key = names
                .iter()
                .map(|n| labels.get(n).copied().unwrap_or("").to_string())
                .collect();
            let value = match kind {
                MetricType::COUNTER => metric.get_counter().get_value(),
                _ => metric.get_gauge().get_value(),
            };
            *out.entry(key).or_insert(0.0) += value;
        }
    }
    out
}
