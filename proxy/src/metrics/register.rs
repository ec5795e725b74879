//! Creating and registering metrics in one call each, so every group reads as a table of
//! names, help texts and labels.

use prometheus::core::Collector;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Registers what it creates on one registry.
pub struct Registrar<'a>(pub &'a Registry);

/// Result of creating a metric.
pub type Made<T> = Result<T, prometheus::Error>;

impl Registrar<'_> {
    /// Registers `metric` and returns it.
    pub fn add<C: Collector + Clone + 'static>(&self, metric: C) -> Made<C> {
        self.0.register(Box::new(metric.clone()))?;
        Ok(metric)
    }

    /// A counter with labels.
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Made<IntCounterVec> {
        self.add(IntCounterVec::new(Opts::new(name, help), labels)?)
    }

    /// A gauge with labels.
    pub fn gauges(&self, name: &str, help: &str, labels: &[&str]) -> Made<IntGaugeVec> {
        self.add(IntGaugeVec::new(Opts::new(name, help), labels)?)
    }

    /// A gauge without labels.
    pub fn gauge(&self, name: &str, help: &str) -> Made<IntGauge> {
        self.add(IntGauge::new(name, help)?)
    }

    /// A histogram with labels.
    pub fn histograms(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Made<HistogramVec> {
        let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
        self.add(HistogramVec::new(opts, labels)?)
    }

    /// A histogram without labels.
    pub fn histogram(&self, name: &str, help: &str, buckets: &[f64]) -> Made<Histogram> {
        let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
        self.add(Histogram::with_opts(opts)?)
    }
}
