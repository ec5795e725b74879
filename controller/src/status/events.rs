//! Which Warning Events to (re-)send. One entry per (object, reason, note) that the current
//! reports still raise: an entry whose refusal is gone is dropped at once, so the set never
//! outgrows the refusals in force, and a refusal that still holds is sent again after
//! `refresh`, so `kubectl describe` shows it after the API server's Event TTL (1h) expired.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::translate::report::{Report, SourceRef};

/// (object, reason, note).
pub type EventKey = (SourceRef, &'static str, String);

/// Last time each Event still in force was sent.
#[derive(Debug, Default)]
pub struct SentEvents {
    sent: HashMap<EventKey, Instant>,
}

impl SentEvents {
    /// The Events due now for `reports`, and forgets the ones no report raises any more.
    pub fn due(
        &mut self,
        reports: &BTreeMap<SourceRef, Report>,
        now: Instant,
        refresh: Duration,
    ) -> Vec<EventKey> {
        let mut current = Vec::new();
        for (source, report) in reports {
            for (reason, note) in event_notes(report) {
                current.push((source.clone(), reason, note));
            }
        }
        // A set: thousands of refusals must not make this quadratic.
        let live: HashSet<&EventKey> = current.iter().collect();
        self.sent.retain(|k, _| live.contains(k));
        current
            .into_iter()
            .filter(|k| {
                self.sent
                    .get(k)
                    .is_none_or(|t| now.saturating_duration_since(*t) >= refresh)
            })
            .collect()
    }

    /// Records a successful send.
    pub fn mark(&mut self, key: EventKey, now: Instant) {
        self.sent.insert(key, now);
    }

    /// How many Events are remembered.
    pub fn len(&self) -> usize {
        self.sent.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}

/// Warning Events for a report: each false condition's reason, and each warning.
pub fn event_notes(report: &Report) -> Vec<(&'static str, String)> {
    let mut notes: Vec<(&'static str, String)> = Vec::new();
    for verdict in [&report.accepted, &report.resolved_refs] {
        if !verdict.status {
            let reason: &'static str = crate::translate::report::reason::intern(&verdict.reason);
            notes.push((reason, verdict.message.clone()));
        }
    }
    for warning in &report.warnings {
        notes.push(("IgnoredAnnotation", warning.clone()));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::report::{SourceKind, reason};

    fn refused(name: &str, message: &str) -> (SourceRef, Report) {
        let source = SourceRef {
            kind: SourceKind::Ingress,
            namespace: "ns".into(),
            name: name.into(),
        };
        let mut report = Report::new(None, Some(1));
        report.refuse(reason::UNSUPPORTED_ANNOTATION, message);
        (source, report)
    }

    #[test]
    fn events_are_sent_once_then_again_after_the_refresh() {
        let refresh = Duration::from_secs(60);
        let start = Instant::now();
        let reports: BTreeMap<_, _> = [refused("a", "x")].into_iter().collect();
        let mut sent = SentEvents::default();
        let due = sent.due(&reports, start, refresh);
        assert_eq!(due.len(), 1);
        sent.mark(due[0].clone(), start);
        assert!(
            sent.due(&reports, start + Duration::from_secs(59), refresh)
                .is_empty()
        );
        assert_eq!(sent.due(&reports, start + refresh, refresh).len(), 1);
    }

    #[test]
    fn l13_the_event_cache_is_bounded_by_the_refusals_in_force() {
        let refresh = Duration::from_secs(3600);
        let now = Instant::now();
        let mut sent = SentEvents::default();
        for i in 0..1000 {
            // Each round a different message: the old one no longer holds.
            let reports: BTreeMap<_, _> = [refused("a", &format!("m{i}"))].into_iter().collect();
            for key in sent.due(&reports, now, refresh) {
                sent.mark(key, now);
            }
        }
        assert_eq!(sent.len(), 1);
        sent.due(&BTreeMap::new(), now, refresh);
        assert!(sent.is_empty());
    }
}
