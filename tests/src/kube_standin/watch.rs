//! Watch responses: a chunked stream of JSON lines from a resourceVersion on, or one
//! `ERROR` event carrying a 410 `Status` when that version is older than the kept history
//! (as the API server does, so clients re-list). Only objects the selectors pick are sent;
//! the stream ends after `timeoutSeconds` (clients then watch again from their last version)
//! and, when asked, carries `BOOKMARK` events with the current resourceVersion.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::json;
use tokio::sync::broadcast;

use super::objects::status;
use super::resources::Resource;
use super::store::{Filter, Store, WatchEvent, matches};

/// The response body of a watch (the handler's body type).
type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// What a watch asked for.
pub struct Options {
    /// From this resourceVersion (`None`: the current state as ADDED events first).
    pub since: Option<u64>,
    /// Selectors.
    pub filter: Filter,
    /// `timeoutSeconds`.
    pub timeout: Option<Duration>,
    /// `allowWatchBookmarks`.
    pub bookmarks: bool,
}

/// How often a watch that allows them gets a BOOKMARK.
const BOOKMARK_EVERY: Duration = Duration::from_secs(2);

/// The body of a watch of `resource` in `namespace`.
pub fn body(
    store: &Arc<Mutex<Store>>,
    resource: Resource,
    namespace: Option<&str>,
    options: Options,
) -> Body {
    let since = options.since;
    let Ok(store) = store.lock() else {
        return expired();
    };
    let (backlog, rx, from): (VecDeque<Bytes>, _, u64) = match since {
        Some(rv) => match store.subscribe(resource, namespace, rv) {
            Some((events, rx)) => (
                events
                    .iter()
                    .filter(|e| options.filter.matches(&e.object))
                    .map(|e| e.line.clone())
                    .collect(),
                rx,
                rv,
            ),
            None => return expired(),
        },
        None => {
            let now = store.resource_version();
            let Some((_, rx)) = store.subscribe(resource, namespace, now) else {
                return expired();
            };
            let list = store
                .list_page(resource, namespace, &options.filter, None)
                .unwrap_or_default();
            let added = list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| line(&json!({"type": "ADDED", "object": o})))
                .collect();
            (added, rx, now)
        }
    };
    let now = tokio::time::Instant::now();
    let state = Stream {
        backlog,
        rx,
        resource,
        namespace: namespace.map(str::to_string),
        from,
        last_rv: from,
        filter: options.filter,
        ends: options.timeout.map(|t| now + t),
        bookmarks: options.bookmarks.then_some(now + BOOKMARK_EVERY),
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
    last_rv: u64,
    filter: Filter,
    ends: Option<tokio::time::Instant>,
    bookmarks: Option<tokio::time::Instant>,
}

impl Stream {
    /// The next line; `None` ends the response (the client then watches again).
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(line) = self.backlog.pop_front() {
            return Some(line);
        }
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400);
        loop {
            let end = self.ends.unwrap_or(far);
            let mark = self.bookmarks.unwrap_or(far);
            tokio::select! {
                _ = tokio::time::sleep_until(end) => return None,
                _ = tokio::time::sleep_until(mark) => {
                    self.bookmarks = Some(mark + BOOKMARK_EVERY);
                    return Some(self.bookmark());
                }
                event = self.rx.recv() => {
                    // A lagging watcher is cut off, like an API server closing a slow watch.
                    let event = event.ok()?;
                    // Bookmarks carry the newest version seen, whatever its kind.
                    self.last_rv = self.last_rv.max(event.rv);
                    if event.rv > self.from
                        && matches(&event, self.resource, self.namespace.as_deref())
                        && self.filter.matches(&event.object)
                    {
                        return Some(event.line.clone());
                    }
                }
            }
        }
    }

    fn bookmark(&self) -> Bytes {
        let object = json!({
            "apiVersion": self.resource.api_version(),
            "kind": self.resource.kind,
            "metadata": {"resourceVersion": self.last_rv.to_string()},
        });
        line(&json!({"type": "BOOKMARK", "object": object}))
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
