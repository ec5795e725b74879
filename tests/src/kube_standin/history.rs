//! The kept watch history: the last events in resourceVersion order, a broadcast of the ones
//! to come, and the version below which resuming is 410 Gone.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::resources::Resource;

/// One watch event, serialized once as a JSON line.
#[derive(Debug)]
pub struct WatchEvent {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Resource type changed.
    pub resource: Resource,
    /// Namespace of the object ("" when cluster-scoped).
    pub namespace: String,
    /// `{"type":..,"object":..}\n`.
    pub line: Bytes,
    /// The object, for selectors.
    pub object: Value,
}

/// Kept events after a resourceVersion, and a receiver of the events to come.
pub type Subscription = (Vec<Arc<WatchEvent>>, broadcast::Receiver<Arc<WatchEvent>>);

/// The bounded event history.
pub struct History {
    events: VecDeque<Arc<WatchEvent>>,
    compacted: u64,
    keep: usize,
    tx: broadcast::Sender<Arc<WatchEvent>>,
}

impl History {
    /// Keeps the last `keep` events.
    pub fn new(keep: usize) -> History {
        History {
            events: VecDeque::new(),
            compacted: 0,
            keep,
            tx: broadcast::channel(4096).0,
        }
    }

    /// Whether a list or watch from `rv` can no longer be served (410 Gone).
    pub fn expired(&self, rv: u64) -> bool {
        rv < self.compacted
    }

    /// Records and broadcasts the change of `object` at `rv`.
    pub fn publish(
        &mut self,
        rv: u64,
        event_type: &str,
        resource: Resource,
        ns: &str,
        object: &Value,
    ) {
        let mut line =
            serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
        line.push(b'\n');
        let event = Arc::new(WatchEvent {
            rv,
            resource,
            namespace: ns.to_string(),
            line: Bytes::from(line),
            object: object.clone(),
        });
        self.events.push_back(event.clone());
        while self.events.len() > self.keep {
            if let Some(dropped) = self.events.pop_front() {
                self.compacted = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    /// The kept events after `since` for `resource` in `namespace`, and a receiver for the
    /// ones to come; `None` when events after `since` were already dropped (410 Gone).
    pub fn subscribe(
        &self,
        resource: Resource,
        namespace: Option<&str>,
        since: u64,
    ) -> Option<Subscription> {
        if self.expired(since) {
            return None;
        }
        let backlog = self
            .events
            .iter()
            .filter(|e| e.rv > since && matches(e, resource, namespace))
            .cloned()
            .collect();
        Some((backlog, self.tx.subscribe()))
    }

    /// Forgets every kept event: watches from a version before `rv` get 410 Gone.
    pub fn compact(&mut self, rv: u64) {
        self.events.clear();
        self.compacted = rv;
    }
}

/// Whether `event` belongs to a watch of `resource` in `namespace`.
pub fn matches(event: &WatchEvent, resource: Resource, namespace: Option<&str>) -> bool {
    event.resource == resource && namespace.is_none_or(|n| n == event.namespace)
}
