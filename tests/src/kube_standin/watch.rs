//! Watch responses: a chunked stream of JSON lines from a resourceVersion on, or one
//! `ERROR` event carrying a 410 `Status` when that version is older than the kept history
//! (as the API server does, so clients re-list).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::json;
use tokio::sync::broadcast;

use super::objects::status;
use super::resources::Resource;
use super::store::{Store, WatchEvent, matches};

/// The response body of a watch (the handler's body type).
type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// The body of a watch of `resource` in `namespace` from `since` (`None`: the current state
/// as ADDED events first).
pub fn body(
    store: &Arc<Mutex<Store>>,
    resource: Resource,
    namespace: Option<&str>,
    since: Option<u64>,
) -> Body {
    let Ok(store) = store.lock() else {
        return expired();
    };
    let (backlog, rx, from): (VecDeque<Bytes>, _, u64) = match since {
        Some(rv) => match store.subscribe(resource, namespace, rv) {
            Some((events, rx)) => (events.iter().map(|e| e.line.clone()).collect(), rx, rv),
            None => return expired(),
        },
        None => {
            let now = store.resource_version();
            let Some((_, rx)) = store.subscribe(resource, namespace, now) else {
                return expired();
            };
            let list = store.list(resource, namespace);
            let added = list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| line(&json!({"type": "ADDED", "object": o})))
                .collect();
            (added, rx, now)
        }
    };
    let state = Stream {
        backlog,
        rx,
        resource,
        namespace: namespace.map(str::to_string),
        from,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        let next = s.next().await?;
        Some((Ok::<_, Infallible>(Frame::data(next)), s))
    });
    StreamBody::new(stream).boxed()
}

struct Stream {
    backlog: VecDeque<Bytes>,
    rx: broadcast::Receiver<Arc<WatchEvent>>,
    resource: Resource,
    namespace: Option<String>,
    from: u64,
}

impl Stream {
    /// The next line; `None` ends the response (the client then watches again).
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(line) = self.backlog.pop_front() {
            return Some(line);
        }
        loop {
            // A lagging watcher is cut off, like an API server closing a slow watch.
            let event = self.rx.recv().await.ok()?;
            if event.rv > self.from && matches(&event, self.resource, self.namespace.as_deref()) {
                return Some(event.line.clone());
            }
        }
    }
}

fn expired() -> Body {
    let gone = status(410, "Expired", "too old resource version");
    let bytes = line(&json!({"type": "ERROR", "object": gone}));
    http_body_util::Full::new(bytes).boxed()
}

fn line(value: &serde_json::Value) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}
