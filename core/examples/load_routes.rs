//! Loads a routes file the way `wsgate proxy` does and prints the memory it took: the peak
//! (VmHWM) and what stays (VmRSS) after parsing and compiling, relative to before.
//!
//!   python3 bench/routes.py 10000 127.0.0.1:9 127.0.0.1:10 > /tmp/routes.yaml
//!   cargo run --release -p wsgate-core --example load_routes -- /tmp/routes.yaml

use std::time::Instant;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: load_routes ROUTES.yaml")?;
    let text = std::fs::read_to_string(&path)?;
    let (rss0, hwm0) = (status_kb("VmRSS:"), status_kb("VmHWM:"));
    let started = Instant::now();
    let loaded = wsgate_core::config::load_str(&text)?;
    let took = started.elapsed();
    let (rss1, hwm1) = (status_kb("VmRSS:"), status_kb("VmHWM:"));
    println!(
        "{} routes loaded in {took:?}; peak +{:.1} MB, kept +{:.1} MB",
        loaded.table.routes.len(),
        hwm1.saturating_sub(hwm0.max(rss0)) as f64 / 1024.0,
        rss1.saturating_sub(rss0) as f64 / 1024.0
    );
    Ok(())
}
