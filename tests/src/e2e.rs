//! How every end-to-end test runs (through `#[e2e]`): against a freshly built `wsgate`, on its
//! own runtime thread, under a hard time limit, and — for heavy tests — one at a time.
//!
//! ```text
//!   test thread ── binary() ── heavy lock ── start clock ── wait ≤ limit ──> pass / panic / fail
//!                                                  │
//!                               runner thread ─────┴── tokio runtime ── test body
//! ```
//!
//! The limit is kept by the test thread, not by the runtime, so a body stuck in a blocking
//! call fails as surely as one stuck on a network await. When it passes, the processes the
//! test started (wsgate, Node servers, Redis, browsers) are killed by PID, which also ends
//! most stuck reads, and the test fails with a message naming the limit.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Hard limit of a test that names none: generous, since a loaded 2-core machine runs tests
/// several times slower than an idle one. It catches hangs; it is not a performance goal.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(120);

/// What `#[e2e(...)]` asked for.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `module::test_name`, for messages.
    pub name: &'static str,
    /// A multi-threaded runtime (two workers) instead of a current-thread one.
    pub multi_thread: bool,
    /// Runs alone among the heavy tests of this test binary.
    pub heavy: bool,
    /// Hard limit in seconds; `None` is [`DEFAULT_LIMIT`].
    pub limit_secs: Option<u64>,
}

/// Runs one test body. Called by the code `#[e2e]` generates.
pub fn run<F>(options: Options, body: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    // Before the clock starts: a first build of wsgate may take minutes.
    crate::binary::binary();
    let _heavy = options.heavy.then(heavy_lock);
    let limit = options
        .limit_secs
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIMIT);
    let test = next_test_id();
    let (done, outcome) = channel();
    let runner = std::thread::Builder::new()
        .name(format!("{}-runtime", options.name))
        .spawn(move || {
            CURRENT_TEST.with(|c| c.set(Some(test)));
            let runtime = build_runtime(options.multi_thread);
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(body)));
            // Let spawned tasks drop their sockets, but never wait long for blocking work.
            runtime.shutdown_timeout(Duration::from_secs(5));
            let _ = done.send(result);
        })
        .expect("spawn the test's runtime thread");
    let started = Instant::now();
    match outcome.recv_timeout(limit) {
        Ok(Ok(())) => {
            let _ = runner.join();
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(RecvTimeoutError::Disconnected) => panic!("{}: the runtime thread died", options.name),
        Err(RecvTimeoutError::Timeout) => {
            let killed = kill_children_of(test);
            panic!(
                "{} did not finish within its hard limit of {limit:?} (ran {:?}); killed the \
                 {killed} process(es) it had started. A network await without a timeout, a \
                 stuck child process or a deadlock: see the test's output above.",
                options.name,
                started.elapsed()
            );
        }
    }
}

fn build_runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .enable_all()
        .build()
        .expect("build the test runtime")
}

/// Heavy tests (hundreds of connections, browsers, many Node processes, the controller) of one
/// test binary take turns: on 2 cores, two of them at once only make both slow and flaky.
fn heavy_lock() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    // A heavy test that failed must not fail the ones after it.
    HEAVY.lock().unwrap_or_else(PoisonError::into_inner)
}

fn next_test_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    /// The test whose body runs on this thread (set on runner threads only).
    static CURRENT_TEST: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// PID -> test that started the process, for the processes still running.
fn children() -> MutexGuard<'static, HashMap<u32, u64>> {
    static CHILDREN: LazyLock<Mutex<HashMap<u32, u64>>> = LazyLock::new(Mutex::default);
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records a process started by the test running on this thread, so its hard limit can stop
/// it. Processes started elsewhere (blocking threads) must bound themselves.
pub(crate) fn track(pid: u32) {
    if let Some(test) = CURRENT_TEST.with(|c| c.get()) {
        children().insert(pid, test);
    }
}

/// Forgets a process once it has been waited for (its PID may be reused afterwards).
pub(crate) fn untrack(pid: u32) {
    children().remove(&pid);
}

fn kill_children_of(test: u64) -> usize {
    let pids: Vec<u32> = children()
        .iter()
        .filter(|(_, t)| **t == test)
        .map(|(pid, _)| *pid)
        .collect();
    for pid in &pids {
        // Still ours: a tracked child is untracked only after it was reaped.
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    pids.len()
}
