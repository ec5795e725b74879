//! File-descriptor budgets: a test that holds many sockets checks first that the process may
//! open enough files, and says how to fix it when not.

/// The soft `RLIMIT_NOFILE` of this process (inherited by the processes it starts), read from
/// `/proc/self/limits`; `None` where that file does not exist or says "unlimited".
pub fn soft_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Fails the test unless `needed` descriptors fit in the soft limit with a margin of half
/// again (listeners, pipes, log files and the runtime's own descriptors).
pub fn require(needed: u64) {
    if let Some(soft) = soft_limit() {
        assert!(
            needed + needed / 2 <= soft,
            "this test holds about {needed} open files in one process but `ulimit -n` is \
             {soft}: raise it (e.g. `ulimit -n 4096`) before running the tests"
        );
    }
}
