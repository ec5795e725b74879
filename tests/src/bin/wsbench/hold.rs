//! Idle connections: open many, say so, and hold them without reading or writing.

use std::rc::Rc;
use std::time::Duration;

use anyhow::Context;
use tokio::io::AsyncWriteExt;

use crate::dial::Target;

/// Opens `n` connections to `target` (sources 127.0.0.x from `first`), `parallel` at a time,
/// prints `ready N` and holds them for `duration`.
pub async fn hold(
    target: Target,
    n: usize,
    first: usize,
    parallel: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    let target = Rc::new(target);
    let mut held = Vec::with_capacity(n);
    let mut next = 0;
    while next < n {
        let batch: Vec<_> = (next..n.min(next + parallel))
            .map(|i| {
                let target = target.clone();
                tokio::task::spawn_local(async move { target.open(first + i).await })
            })
            .collect();
        for (k, task) in batch.into_iter().enumerate() {
            let (conn, _) = task
                .await?
                .with_context(|| format!("connection {}", next + k))?;
            held.push(conn);
        }
        next = held.len();
    }
    println!("ready {n}");
    tokio::time::sleep(duration).await;
    for mut conn in held {
        let _ = conn.shutdown().await;
    }
    Ok(())
}
