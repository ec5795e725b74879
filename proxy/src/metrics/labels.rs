//! The `namespace` / `route` labels operators filter by, and the pruning that keeps label
//! cardinality bounded by the route table in force.

use std::collections::{HashMap, HashSet};

use prometheus::core::{Collector, MetricVec, MetricVecBuilder};
use prometheus::proto::LabelPair;

/// Splits a route label `namespace/name` into its `namespace` and `route` label values.
/// Neither part can contain `/` (both are DNS names), so the first `/` separates them.
pub fn route_labels(label: &str) -> [&str; 2] {
    match label.split_once('/') {
        Some((namespace, name)) => [namespace, name],
        None => ["", label],
    }
}

/// The routes (`namespace/name`) and endpoints of a route table: series of anything else
/// are dropped when the table is applied.
#[derive(Debug, Default)]
pub struct LiveSeries {
    /// Route labels in force.
    pub routes: HashSet<String>,
    /// `ip:port` of the endpoints in force.
    pub endpoints: HashSet<String>,
}

impl LiveSeries {
    /// Whether a series with these labels belongs to the table in force: its
    /// `namespace`/`route` (and `endpoint`, when it has one) are still there.
    fn keeps(&self, labels: &HashMap<&str, &str>) -> bool {
        let route_live = match (labels.get("namespace"), labels.get("route")) {
            (Some(ns), Some(route)) => self.routes.contains(&format!("{ns}/{route}")),
            _ => true,
        };
        let endpoint_live = labels
            .get("endpoint")
            .is_none_or(|e| self.endpoints.contains(*e));
        route_live && endpoint_live
    }
}

/// Drops every series of `vec` whose route or endpoint left the table. With
/// `keep_nonzero`, a gauge series still above zero stays (connections of a removed route
/// drain on their own and are pruned at a later table).
pub fn prune<T: MetricVecBuilder>(vec: &MetricVec<T>, live: &LiveSeries, keep_nonzero: bool) {
    for family in vec.collect() {
        for metric in family.get_metric() {
            let labels: HashMap<&str, &str> = metric
                .get_label()
                .iter()
                .map(|l| (l.name(), l.value()))
                .collect();
            if live.keeps(&labels) || (keep_nonzero && metric.get_gauge().get_value() > 0.0) {
                continue;
            }
            let _ = vec.remove(&labels);
        }
    }
}

/// Label pairs in the order given (pass names sorted, as the text format lists them).
pub fn label_pairs(names: &[&str], values: &[String]) -> Vec<LabelPair> {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| {
            let mut p = LabelPair::default();
            p.set_name(n.to_string());
            p.set_value(v.clone());
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::{IntCounterVec, IntGaugeVec, Opts};

    #[test]
    fn splits_namespace_and_name() {
        assert_eq!(route_labels("team-a/chat"), ["team-a", "chat"]);
        assert_eq!(route_labels("chat"), ["", "chat"]);
    }

    #[test]
    fn prune_drops_removed_routes_and_endpoints_only() {
        let opts = Opts::new("t_total", "t");
        let c = IntCounterVec::new(opts, &["namespace", "route", "endpoint"]).expect("vec");
        c.with_label_values(&["a", "kept", "10.0.0.1:80"]).inc();
        c.with_label_values(&["a", "gone", "10.0.0.1:80"]).inc();
        c.with_label_values(&["a", "kept", "10.0.0.9:80"]).inc();
        let live = LiveSeries {
            routes: ["a/kept".to_string()].into(),
            endpoints: ["10.0.0.1:80".to_string()].into(),
        };
        prune(&c, &live, false);
        let left: Vec<Vec<String>> = c.collect()[0]
            .get_metric()
            .iter()
            .map(|m| {
                m.get_label()
                    .iter()
                    .map(|l| l.value().to_string())
                    .collect()
            })
            .collect();
        // Label pairs come sorted by name: endpoint, namespace, route.
        assert_eq!(left, vec![vec!["10.0.0.1:80", "a", "kept"]]);

        let g = IntGaugeVec::new(Opts::new("g", "g"), &["namespace", "route"]).expect("vec");
        g.with_label_values(&["a", "draining"]).set(2);
        g.with_label_values(&["a", "idle"]).set(0);
        prune(&g, &live, true);
        let left = g.collect()[0].get_metric().len();
        assert_eq!(
            left, 1,
            "the gauge with open connections stays until they close"
        );
    }
}
