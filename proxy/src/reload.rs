//! Watches the routes file, and the certificate, key and CA files it names, and publishes a
//! new table when any of them changes (or on SIGHUP).
//!
//! The files are polled (content hash) rather than watched with inotify: that follows the
//! symlink swaps Kubernetes uses for ConfigMap and Secret volumes (and cert-manager renewals)
//! and needs nothing from the platform. Reads run on the blocking pool.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use wsgate_core::config::{FileStamp, LoadedConfig, ProxySettings, base_dir, load_in};
use wsgate_core::table::RouteTable;

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
    files: Vec<FileStamp>,
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
        let (tx, rx) = watch::channel(Arc::new(table));
        let source = Self {
            path,
            last_hash: combined(hash(text), initial.files.iter().map(|f| f.fingerprint)),
            files: initial.files,
            settings: initial.settings,
            version: 1,
            tx,
            metrics,
        };
        (source, rx)
    }

    /// Reads the files and publishes a new table if their content changed and is valid.
    pub async fn reload(&mut self) -> ReloadOutcome {
        let path = self.path.clone();
        let files: Vec<PathBuf> = self.files.iter().map(|f| f.path.clone()).collect();
        let snapshot = tokio::task::spawn_blocking(move || {
            let text = std::fs::read_to_string(&path)?;
            let h = combined(hash(&text), files.iter().map(|f| FileStamp::current(f)));
            Ok::<_, std::io::Error>((text, h))
        })
        .await;
        let (text, h) = match snapshot {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return self.reject(format!("{}: {e}", self.path.display())),
            Err(e) => return self.reject(format!("reading {}: {e}", self.path.display())),
        };
        if h == self.last_hash {
            return ReloadOutcome::Unchanged;
        }
        let text_hash = hash(&text);
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || load_in(&text, base_dir(&path))).await;
        let (result, stamps) = match loaded {
            Ok(pair) => pair,
            Err(e) => return self.reject(format!("loading {}: {e}", self.path.display())),
        };
        // Remember what was read, good or bad, so a rejected state is reported once and any
        // later change of the routes file or a named file is noticed.
        self.last_hash = combined(text_hash, stamps.iter().map(|f| f.fingerprint));
        self.files = stamps;
        match result {
            Ok(loaded) => self.publish(loaded),
            Err(e) => self.reject(e.to_string()),
        }
    }

    fn publish(&mut self, loaded: LoadedConfig) -> ReloadOutcome {
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
            files = self.files.len(),
            "routes file reloaded"
        );
        self.tx.send_replace(Arc::new(table));
        ReloadOutcome::Applied(self.version)
    }

    fn reject(&self, message: String) -> ReloadOutcome {
        tracing::error!(path = %self.path.display(), error = %message, "routes file rejected; the last good table stays in force");
        self.metrics
            .table
            .reloads
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

/// One fingerprint for the routes text and every named file, in order.
fn combined(text: u64, files: impl Iterator<Item = u64>) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    for f in files {
        f.hash(&mut h);
    }
    h.finish()
}
