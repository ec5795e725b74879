//! `wsgate proxy`: load the routes file, bind the listeners, run the data plane, reload the
//! file when it changes, and drain on SIGTERM/SIGINT.

use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wsgate_proxy::config::{FileSource, load_file};
use wsgate_proxy::{Listeners, Metrics};

use crate::cli::ProxyArgs;
use crate::signals::shutdown_on_signal;

/// Exit code for a routes file rejected at start-up (EX_USAGE).
pub const EXIT_BAD_CONFIG: i32 = 64;

/// Errors that end `wsgate proxy` before it serves.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The routes file is invalid.
    #[error("{0}")]
    Config(#[from] wsgate_proxy::config::LoadError),
    /// Anything else (binding, metrics).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Runs the proxy until a shutdown signal has been handled.
pub async fn run(args: ProxyArgs) -> Result<(), StartError> {
    let text = std::fs::read_to_string(&args.config).map_err(|source| {
        wsgate_proxy::config::LoadError::Read {
            path: args.config.clone(),
            source,
        }
    })?;
    let loaded = load_file(&args.config)?;
    let mut settings = loaded.settings.clone();
    if let Some(listen) = args.listen {
        settings.http_listen = listen;
    }
    if let Some(admin) = args.admin_listen {
        settings.admin_listen = admin;
    }
    let http = TcpListener::bind(settings.http_listen)
        .await
        .with_context(|| format!("binding the HTTP listener {}", settings.http_listen))?;
    let admin = TcpListener::bind(settings.admin_listen)
        .await
        .with_context(|| format!("binding the admin listener {}", settings.admin_listen))?;
    let http_addr = http
        .local_addr()
        .context("reading the HTTP listener address")?;
    let admin_addr = admin
        .local_addr()
        .context("reading the admin listener address")?;
    if let Some(path) = &args.addresses_file {
        let json = format!("{{\"http\":\"{http_addr}\",\"admin\":\"{admin_addr}\"}}\n");
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    tracing::info!(http = %http_addr, admin = %admin_addr, routes = loaded.table.routes.len(), config = %args.config.display(), "wsgate proxy listening");

    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let shutdown = CancellationToken::new();
    let (source, tables) = FileSource::start(args.config.clone(), &text, loaded, metrics.clone());
    tokio::spawn(source.run(args.watch_interval, shutdown.clone()));
    tokio::spawn(shutdown_on_signal(shutdown.clone()));
    wsgate_proxy::run(
        Listeners { http, admin },
        tables,
        metrics,
        shutdown,
        settings.shutdown_timeout.max(Duration::from_secs(1)),
    )
    .await;
    tracing::info!("wsgate proxy stopped");
    Ok(())
}
