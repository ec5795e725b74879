//! One proxy's stream: the current table (unless it has it), every new one, and heartbeats.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use tokio::sync::watch;

use crate::tables_event::{HEARTBEAT, PATH, heartbeat_line, parse_resume};

/// A table as sent: its version and its event line.
#[derive(Debug, Default)]
pub(super) struct Encoded {
    /// The table's version (0: none yet).
    pub version: u64,
    /// Its event line.
    pub line: Bytes,
}

/// What every stream reads from.
#[derive(Clone)]
pub(super) struct Feed {
    /// This controller process.
    pub instance: Arc<str>,
    /// The current table, encoded.
    pub tables: watch::Receiver<Arc<Encoded>>,
    /// Open streams.
    pub streams: prometheus::IntGauge,
}

type Body = BoxBody<Bytes, Infallible>;

/// Answers `GET /v1/tables?resume=<instance>.<version>` with the stream.
pub(super) async fn handle(
    feed: Feed,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if req.uri().path() != PATH {
        return Ok(plain(StatusCode::NOT_FOUND, "not found\n"));
    }
    if req.method() != Method::GET {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"));
    }
    let resume = req
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("resume="))
        .and_then(parse_resume);
    // The client has this process's current table: start with a heartbeat instead.
    let has = match resume {
        Some((instance, version)) if instance == &*feed.instance => Some(version),
        _ => None,
    };
    tracing::info!(client = %peer, resume = ?has, "proxy subscribed to route tables");
    let body = StreamBody::new(events(feed, has, peer));
    let response = Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CACHE_CONTROL, "no-store")
        .body(BodyExt::boxed(body))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "response\n"));
    Ok(response)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response
}

struct Subscriber {
    feed: Feed,
    /// Version the client has from this process (`None`: none yet).
    sent: Option<u64>,
    first: bool,
    peer: SocketAddr,
}

/// The event lines of one stream; it ends when the controller stops publishing.
fn events(
    feed: Feed,
    has: Option<u64>,
    peer: SocketAddr,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    feed.streams.inc();
    let start = Subscriber {
        feed,
        sent: has,
        first: true,
        peer,
    };
    stream::unfold(start, |mut s| async move {
        let line = s.next_line().await?;
        Some((Ok(Frame::data(line)), s))
    })
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.feed.streams.dec();
    }
}

impl Subscriber {
    async fn next_line(&mut self) -> Option<Bytes> {
        if std::mem::take(&mut self.first) {
            let current = self.feed.tables.borrow_and_update().clone();
            return Some(self.table_or_heartbeat(&current));
        }
        tokio::select! {
            changed = self.feed.tables.changed() => {
                if changed.is_err() {
                    tracing::info!(client = %self.peer, "route table stream ended");
                    return None;
                }
                let current = self.feed.tables.borrow_and_update().clone();
                Some(self.table_or_heartbeat(&current))
            }
            _ = tokio::time::sleep(HEARTBEAT) => {
                Some(Bytes::from(heartbeat_line(&self.feed.instance, self.current_version())))
            }
        }
    }

    /// The table when the client does not have it yet, else a heartbeat.
    fn table_or_heartbeat(&mut self, current: &Encoded) -> Bytes {
        if current.version == 0 || self.sent == Some(current.version) {
            return Bytes::from(heartbeat_line(&self.feed.instance, current.version));
        }
        self.sent = Some(current.version);
        current.line.clone()
    }

    fn current_version(&self) -> u64 {
        self.feed.tables.borrow().version
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    async fn first_line(feed: &Feed, has: Option<u64>) -> String {
        let events = events(feed.clone(), has, SocketAddr::from(([127, 0, 0, 1], 1)));
        let mut events = std::pin::pin!(events);
        let frame = events.next().await.expect("a line").expect("infallible");
        let data = frame.into_data().expect("data");
        String::from_utf8(data.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn a_stream_starts_with_the_table_unless_the_client_has_it() {
        let (tx, rx) = watch::channel(Arc::new(Encoded {
            version: 3,
            line: Bytes::from_static(b"{\"type\":\"table\"}\n"),
        }));
        let streams = prometheus::IntGauge::new("streams", "open").expect("gauge");
        let feed = Feed {
            instance: Arc::from("i"),
            tables: rx,
            streams: streams.clone(),
        };
        assert!(first_line(&feed, None).await.contains("\"table\""));
        assert!(first_line(&feed, Some(2)).await.contains("\"table\""));
        let resumed = first_line(&feed, Some(3)).await;
        assert!(resumed.contains("\"heartbeat\"") && resumed.contains("\"version\":3"));
        // A controller that has not synced yet sends heartbeats, never an empty table.
        tx.send_replace(Arc::new(Encoded::default()));
        assert!(first_line(&feed, None).await.contains("\"heartbeat\""));
        assert_eq!(streams.get(), 0, "every ended stream is counted out");
    }
}
