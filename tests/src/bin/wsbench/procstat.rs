//! CPU time from /proc over a measured window: how busy each core was, and how much CPU the
//! processes under test (the proxy) used.

use serde_json::{Value, json};

/// A reading of the counters.
pub struct Sample {
    /// (busy, total) jiffies per core, from /proc/stat.
    cores: Vec<(u64, u64)>,
    /// utime + stime of the watched processes (all their threads), in clock ticks.
    ticks: u64,
}

/// Reads the counters for `pids`.
pub fn sample(pids: &[u32]) -> Sample {
    Sample {
        cores: cores(),
        ticks: pids.iter().map(|p| process_ticks(*p)).sum(),
    }
}

/// What happened between two samples: per-core busy fraction and the processes' CPU seconds.
pub fn between(a: &Sample, b: &Sample) -> Value {
    let busy: Vec<f64> = a
        .cores
        .iter()
        .zip(&b.cores)
        .map(|(x, y)| {
            let total = y.1.saturating_sub(x.1).max(1);
            y.0.saturating_sub(x.0) as f64 / total as f64
        })
        .collect();
    json!({
        "core_busy": busy,
        "proxy_cpu_s": b.ticks.saturating_sub(a.ticks) as f64 / clock_ticks_per_sec(),
    })
}

fn cores() -> Vec<(u64, u64)> {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return Vec::new();
    };
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...
            let total: u64 = v.iter().take(8).sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (total - idle, total)
        })
        .collect()
}

fn process_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name may hold spaces; fields resume after its closing parenthesis.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name.
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    num(11) + num(12)
}

fn clock_ticks_per_sec() -> f64 {
    // Linux reports utime/stime in USER_HZ, which is 100 on every mainstream architecture.
    100.0
}
