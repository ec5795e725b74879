//! Gauges read from the router in force at scrape time: endpoint health per route. Being
//! computed from the current table, they never keep series of removed routes or endpoints.
//!
//! - `wsgate_endpoint_up{namespace,route,endpoint}`: 1 while the endpoint takes new
//!   connections, 0 while it is ejected after failed connects.
//! - `wsgate_route_healthy_endpoints{namespace,route}`: endpoints of the route that are up
//!   (0 also when the route's backend is unusable or empty).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;
use prometheus::core::{Collector, Desc};
use prometheus::proto::{Gauge, Metric, MetricFamily, MetricType};

use crate::metrics::{label_pairs, route_labels};
use crate::route::{BackendRuntime, Router};

const UP: (&str, &str) = (
    "wsgate_endpoint_up",
    "1 while an endpoint of a route takes new connections, 0 while it is ejected after failed connects",
);
const HEALTHY: (&str, &str) = (
    "wsgate_route_healthy_endpoints",
    "Endpoints of a route that take new connections (0 also when its backend is unusable)",
);

/// The collector; register it on the metrics registry.
pub struct RouteHealth {
    router: Arc<ArcSwap<Router>>,
    descs: [Desc; 2],
}

impl RouteHealth {
    /// A collector reading `router`.
    pub fn new(router: Arc<ArcSwap<Router>>) -> Result<Self, prometheus::Error> {
        let desc = |(name, help): (&str, &str), labels: &[&str]| {
            let labels = labels.iter().map(|l| l.to_string()).collect();
            Desc::new(name.into(), help.into(), labels, HashMap::new())
        };
        Ok(Self {
            router,
            descs: [
                desc(UP, &["endpoint", "namespace", "route"])?,
                desc(HEALTHY, &["namespace", "route"])?,
            ],
        })
    }
}

impl Collector for RouteHealth {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let router = self.router.load();
        // Sorted and deduplicated: a route may list an endpoint in several rules.
        let mut up: BTreeMap<[String; 3], bool> = BTreeMap::new();
        let mut healthy: BTreeMap<[String; 2], u64> = BTreeMap::new();
        for route in router.routes() {
            let [ns, name] = route_labels(&route.label);
            let count = healthy.entry([ns.into(), name.into()]).or_default();
            for rule in &route.rules {
                let BackendRuntime::Endpoints(balancer) = &rule.backend else {
                    continue;
                };
                for c in balancer.candidates.iter() {
                    let key = [c.state.addr.to_string(), ns.into(), name.into()];
                    if up.contains_key(&key) {
                        continue;
                    }
                    let is_up = c.state.is_healthy();
                    *count += u64::from(is_up);
                    up.insert(key, is_up);
                }
            }
        }
        vec![
            family(
                UP,
                up.iter().map(|(k, v)| {
                    (
                        &["endpoint", "namespace", "route"][..],
                        &k[..],
                        f64::from(u8::from(*v)),
                    )
                }),
            ),
            family(
                HEALTHY,
                healthy
                    .iter()
                    .map(|(k, v)| (&["namespace", "route"][..], &k[..], *v as f64)),
            ),
        ]
    }
}

fn family<'a>(
    (name, help): (&str, &str),
    series: impl Iterator<Item = (&'a [&'a str], &'a [String], f64)>,
) -> MetricFamily {
    let metrics = series
        .map(|(names, values, v)| {
            let mut g = Gauge::default();
            g.set_value(v);
            let mut m = Metric::default();
            m.set_label(label_pairs(names, values));
            m.set_gauge(g);
            m
        })
        .collect();
    let mut f = MetricFamily::default();
    f.set_name(name.into());
    f.set_help(help.into());
    f.set_field_type(MetricType::GAUGE);
    f.set_metric(metrics);
    f
}
