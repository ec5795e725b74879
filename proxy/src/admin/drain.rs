//! `/drain`: the pod's preStop asks wsgate to close its WebSockets while the app is still
//! up. Draining sends every WebSocket a close (1001, or the route's `drain.closeCode`)
//! spread over the drain period so clients reconnect gradually, refuses new requests with
//! 503, fails `/readyz`, and answers once the WebSockets have closed or the drain timeout
//! (`shutdownTimeout`) passed. A drain cannot be undone: the pod is on its way out.
//!
//! `POST /drain` is the call; `GET /drain` does the same because the kubelet's `httpGet`
//! lifecycle hook, the only hook that needs nothing in the app's image, can only send GET.

use std::time::{Duration, Instant};

use http::{Method, StatusCode};

use crate::state::State;

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// WebSockets open when the wait began.
    pub open_before: usize,
    /// WebSockets still open when it ended (0 unless the timeout passed).
    pub open_after: usize,
}

/// Starts draining (once; later calls join it) and waits up to `timeout` for the open
/// WebSockets, which are closing over the drain period.
pub async fn drain(state: &State, timeout: Duration) -> Outcome {
    state.draining.cancel();
    let tunnels = &state.tunnels;
    // No tunnel starts after this: routing refuses every request while draining.
    tunnels.close();
    let open_before = tunnels.len();
    if open_before > 0 {
        tracing::info!(open = open_before, timeout = ?timeout, "draining WebSocket connections");
    }
    let _ = tokio::time::timeout(timeout, tunnels.wait()).await;
    let outcome = Outcome {
        open_before,
        open_after: tunnels.len(),
    };
    if outcome.open_after > 0 {
        tracing::warn!(
            open = outcome.open_after,
            "drain timeout reached with connections still open"
        );
    }
    outcome
}

/// Answers `/drain`: (status, JSON body). 200 once every WebSocket closed, 503 when some
/// were still open at the timeout (a failed preStop hook is reported as an Event), 405 for
/// other methods.
pub async fn serve(state: &State, method: &Method) -> (StatusCode, String) {
    if method != Method::POST && method != Method::GET {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "{\"error\":\"use POST /drain\"}\n".to_string(),
        );
    }
    let started = Instant::now();
    let outcome = drain(state, state.drain_timeout).await;
    let body = serde_json::json!({
        "drained": outcome.open_after == 0,
        "closed": outcome.open_before.saturating_sub(outcome.open_after),
        "open": outcome.open_after,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let status = if outcome.open_after == 0 {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, format!("{body}\n"))
}
