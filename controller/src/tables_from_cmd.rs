//! `wsgate proxy --tables-from URL`: the data plane with route tables from a controller's
//! table server (split mode). Listeners, shared state and head limits come from the flags
//! and an optional `-c` file that holds only a ProxyConfig; the routes, certificates and
//! keys come from the controller.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wsgate_core::config::{LoadError, ProxySettings, load_file};
use wsgate_core::table::RouteTable;
use wsgate_proxy::Metrics;

use crate::cli::ProxyArgs;
use crate::proxy_cmd::{StartError, bind, check_shared_files};
use crate::signals::shutdown_on_signal;
use crate::tables_client::{StreamMetrics, Target, follow};

/// Runs the proxy fed by the controller at `url` until a shutdown signal has been handled.
pub async fn run(args: &ProxyArgs, url: &str) -> Result<(), StartError> {
    let target = Target::new(url, &args.tables)?;
    target.check_files()?;
    let settings = settings(args)?;
    let listeners = bind(args, &settings).await?;
    check_shared_files(&settings.shared_state)?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let stream_metrics = StreamMetrics::new(&registry).context("registering metrics")?;
    let shutdown = CancellationToken::new();
    // Version 0 is "no table yet": not ready until the controller sent one.
    let (tx, tables) = watch::channel(Arc::new(RouteTable::default()));
    tokio::spawn(follow(target, tx, stream_metrics, shutdown.clone()));
    tokio::spawn(shutdown_on_signal(shutdown.clone()));
    tokio::spawn(ignore_hangup());
    tracing::info!(
        tables_from = url,
        "wsgate proxy listening; route tables from the controller"
    );
    wsgate_proxy::run(
        listeners,
        tables,
        metrics,
        shutdown,
        settings.shutdown_timeout.max(Duration::from_secs(1)),
        settings.shared_state.clone(),
    )
    .await;
    tracing::info!("wsgate proxy stopped");
    Ok(())
}

/// The ProxyConfig of `-c`, or the defaults; a file with routes is refused, since the routes
/// come from the controller.
fn settings(args: &ProxyArgs) -> Result<ProxySettings, StartError> {
    let Some(path) = &args.config else {
        return Ok(ProxySettings::default());
    };
    let loaded = load_file(path)?;
    if !loaded.table.routes.is_empty() {
        return Err(LoadError::Read {
            path: path.clone(),
            source: std::io::Error::other(
                "with --tables-from the routes come from the controller: this file may hold only a ProxyConfig",
            ),
        }
        .into());
    }
    Ok(loaded.settings)
}

/// SIGHUP reloads a routes file; here the routes come from the controller, so it is logged
/// and ignored rather than left to its default action (ending the process).
async fn ignore_hangup() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP ignored: route tables come from the controller");
    }
}
