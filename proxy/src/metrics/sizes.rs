//! `wsgate_message_size_bytes`: a histogram of relayed message sizes per route and
//! direction. The tunnel counts sizes into fixed buckets as messages complete and hands
//! the meter deltas, so this family adds bucket counts in bulk (a standard histogram can
//! only observe one value at a time) and renders them as a Prometheus histogram.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Bucket, Histogram, Metric, MetricFamily, MetricType};
use wsgate_tunnel::{MESSAGE_SIZE_BUCKETS, SizeCounts};

use super::labels::{LiveSeries, label_pairs};
use crate::lock::lock;

const NAME: &str = "wsgate_message_size_bytes";
const HELP: &str = "Sizes of relayed WebSocket messages (payload bytes)";
/// Label names, sorted (the order of each key and of the rendered label pairs).
const LABELS: [&str; 3] = ["direction", "namespace", "route"];
const SLOTS: usize = MESSAGE_SIZE_BUCKETS.len() + 1;

/// The counts of one series.
#[derive(Debug, Default)]
pub struct SizeSeries {
    buckets: [AtomicU64; SLOTS],
    sum: AtomicU64,
}

impl SizeSeries {
    /// Adds a delta from the tunnel.
    pub fn add(&self, delta: &SizeCounts) {
        for (slot, &n) in self.buckets.iter().zip(delta.buckets.iter()) {
            if n > 0 {
                slot.fetch_add(u64::from(n), Ordering::Relaxed);
            }
        }
        self.sum.fetch_add(delta.sum, Ordering::Relaxed);
    }
}

type Key = [String; 3];

/// The histogram family (cheap to clone).
#[derive(Clone)]
pub struct MessageSizes {
    desc: Desc,
    series: Arc<Mutex<HashMap<Key, Arc<SizeSeries>>>>,
}

impl MessageSizes {
    /// The family, not yet registered.
    pub fn new() -> Result<Self, prometheus::Error> {
        let labels = LABELS.iter().map(|l| l.to_string()).collect();
        Ok(Self {
            desc: Desc::new(NAME.into(), HELP.into(), labels, HashMap::new())?,
            series: Arc::default(),
        })
    }

    /// The series of a route and direction, created on first use.
    pub fn series(&self, namespace: &str, route: &str, direction: &str) -> Arc<SizeSeries> {
        let key = [
            direction.to_string(),
            namespace.to_string(),
            route.to_string(),
        ];
        lock(&self.series).entry(key).or_default().clone()
    }

    /// Drops the series of routes that left the table.
    pub fn prune(&self, live: &LiveSeries) {
        lock(&self.series)
            .retain(|[_, ns, route], _| live.routes.contains(&format!("{ns}/{route}")));
    }
}

impl Collector for MessageSizes {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let series = lock(&self.series);
        let mut entries: Vec<_> = series.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let metrics = entries.into_iter().map(|(key, s)| metric(key, s)).collect();
        let mut family = MetricFamily::default();
        family.set_name(NAME.into());
        family.set_help(HELP.into());
        family.set_field_type(MetricType::HISTOGRAM);
        family.set_metric(metrics);
        vec![family]
    }
}

fn metric(key: &Key, s: &SizeSeries) -> Metric {
    let mut buckets = Vec::with_capacity(MESSAGE_SIZE_BUCKETS.len());
    let mut cumulative = 0;
    for (bound, slot) in MESSAGE_SIZE_BUCKETS.iter().zip(&s.buckets) {
        cumulative += slot.load(Ordering::Relaxed);
        let mut b = Bucket::default();
        b.set_upper_bound(*bound as f64);
        b.set_cumulative_count(cumulative);
        buckets.push(b);
    }
    let total = cumulative + s.buckets[SLOTS - 1].load(Ordering::Relaxed);
    let mut h = Histogram::default();
    h.set_bucket(buckets);
    h.set_sample_count(total);
    h.set_sample_sum(s.sum.load(Ordering::Relaxed) as f64);
    let mut m = Metric::default();
    m.set_label(label_pairs(&LABELS, key));
    m.set_histogram(h);
    m
}
