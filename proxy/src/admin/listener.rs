//! The admin listener's connection handling, bounded like the client listeners: a request
//! head must arrive within [`HEAD_TIMEOUT`], at most [`MAX_CONNECTIONS`] connections are
//! served at once (more are closed at accept), and accept errors (out of descriptors) back
//! off instead of spinning.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::body::Body;

/// Time a request head (also the next one on a kept-alive connection) may take to arrive.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Admin connections served at once: probes, a scraper and a few operators.
pub const MAX_CONNECTIONS: usize = 64;
/// Pause after a failed accept (EMFILE and the like), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Largest admin request head (hyper's smallest allowed buffer).
const MAX_HEAD_BYTES: usize = 8 * 1024;

/// Serves connections of `listener` with `handler` until `stop`.
pub async fn serve<H, F>(listener: TcpListener, stop: CancellationToken, handler: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + 'static,
    F: Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Full: closing at once frees the descriptor; probes retry.
            tracing::debug!("admin connection refused: {MAX_CONNECTIONS} already open");
            continue;
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service_fn(handler))
                .await;
            drop(slot);
        });
    }
}
