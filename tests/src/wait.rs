//! Waiting without hanging and without guessing: every await on the network has a limit, and
//! a condition is polled until it holds instead of slept on.
//!
//! The limits here are hang guards, many times what the step takes on a loaded machine; no
//! test asserts how fast anything is (timing goals belong in benchmarks).

use std::future::Future;
use std::time::{Duration, Instant};

/// Limit for one network step: a connect, a request, one message.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Limit for a condition to become true: a reload applied, a metric counted, a peer ready.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `fut` for at most `limit`; fails the test naming `what` when it takes longer.
pub async fn within<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing within {limit:?}"),
    }
}

/// Polls `probe` every 25 ms until it returns true; false if `limit` passes first.
pub async fn eventually<F, Fut>(limit: Duration, mut probe: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if probe().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls `probe` until it returns true; fails the test with `what()` after
/// [`SETTLE_TIMEOUT`]. `what` is only evaluated on failure (it may read logs).
pub async fn until<F, Fut, W>(what: W, probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
    W: FnOnce() -> String,
{
    if !eventually(SETTLE_TIMEOUT, probe).await {
        panic!("{} (waited {SETTLE_TIMEOUT:?})", what());
    }
}
