//! Watches the routes file and publishes a new table when it changes (or on SIGHUP).
//!
//! The file is polled (content hash) rather than watched with inotify: it follows the
//! symlink swaps Kubernetes uses for ConfigMap volumes and needs nothing from the platform.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{LoadedConfig, ProxySettings, load_str};
use crate::metrics::Metrics;
use crate::table::RouteTable;

/// What a reload attempt did.
#[derive(Debug, PartialEq)]
pub enum ReloadOutcome {
    /// The file did not change.
    Unchanged,
    /// A new table was published with this version.
    Applied(u64),
    /// The file was rejected; the last good table stays in force.
    Rejected(String),
}

/// The routes file as a source of route tables.
pub struct FileSource {
    path: PathBuf,
    last_hash: u64,
    settings: ProxySettings,
    version: u64,
    tx: watch::Sender<Arc<RouteTable>>,
    metrics: Metrics,
}

impl FileSource {
    /// Publishes `initial` (already loaded from `path`) as version 1 and returns the source
    /// with the receiver the data plane follows.
    pub fn start(
        path: PathBuf,
        text: &str,
        initial: LoadedConfig,
        metrics: Metrics,
    ) -> (Self, watch::Receiver<Arc<RouteTable>>) {
        let table = RouteTable {
            version: 1,
            ..initial.table
        };
        metrics.table_reloads.with_label_values(&["applied"]).inc();
        let (tx, rx) = watch::channel(Arc::new(table));
        let source = Self {
            path,
            last_hash: hash(text),
            settings: initial.settings,
            version: 1,
            tx,
            metrics,
        };
        (source, rx)
    }

    /// Reads the file and publishes a new table if its content changed and is valid.
    pub async fn reload(&mut self) -> ReloadOutcome {
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => text,
            Err(e) => return self.reject(format!("{}: {e}", self.path.display())),
        };
        let h = hash(&text);
        if h == self.last_hash {
            return ReloadOutcome::Unchanged;
        }
        match load_str(&text) {
            Ok(loaded) => {
                self.last_hash = h;
                if loaded.settings != self.settings {
                    tracing::warn!(path = %self.path.display(), "ProxyConfig changed: listen addresses and shutdown timeout apply at the next restart");
                }
                self.version += 1;
                let table = RouteTable {
                    version: self.version,
                    ..loaded.table
                };
                tracing::info!(
                    version = self.version,
                    routes = table.routes.len(),
                    "routes file reloaded"
                );
                self.metrics
                    .table_reloads
                    .with_label_values(&["applied"])
                    .inc();
                self.tx.send_replace(Arc::new(table));
                ReloadOutcome::Applied(self.version)
            }
            Err(e) => {
                // Remember the bad content so it is reported once, not on every poll.
                self.last_hash = h;
                self.reject(e.to_string())
            }
        }
    }

    fn reject(&self, message: String) -> ReloadOutcome {
        tracing::error!(path = %self.path.display(), error = %message, "routes file rejected; the last good table stays in force");
        self.metrics
            .table_reloads
            .with_label_values(&["rejected"])
            .inc();
        ReloadOutcome::Rejected(message)
    }

    /// Polls the file every `interval` and reloads on SIGHUP until `shutdown`.
    pub async fn run(mut self, interval: Duration, shutdown: CancellationToken) {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; relying on file polling");
                None
            }
        };
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
                Some(()) = async { match hup.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                    tracing::info!("SIGHUP: reloading routes file");
                    // A SIGHUP forces a re-read even when the content hash is unchanged.
                    self.last_hash = 0;
                }
            }
            self.reload().await;
        }
    }
}

fn hash(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}
