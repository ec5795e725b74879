//! `wsgate proxy`: load the routes file, bind the listeners, run the data plane, reload the
//! file when it changes, and drain on SIGTERM/SIGINT.

use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wsgate_core::config::{LoadError, ProxySettings, base_dir, load_in};
use wsgate_core::table::shared::SharedState;
use wsgate_proxy::{FileSource, ListenAddrs, Listeners, Metrics};

use crate::cli::ProxyArgs;
use crate::signals::shutdown_on_signal;

/// Exit code for a routes file rejected at start-up (EX_USAGE).
pub const EXIT_BAD_CONFIG: i32 = 64;

/// Errors that end `wsgate proxy` before it serves.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The routes file is invalid.
    #[error("{0}")]
    Config(#[from] LoadError),
    /// Anything else (binding, metrics).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Runs the proxy until a shutdown signal has been handled.
pub async fn run(args: ProxyArgs) -> Result<(), StartError> {
    let Some(config) = args.config.clone() else {
        return Err(anyhow::anyhow!("give a routes file (-c) or --tables-from").into());
    };
    // One read: the text loaded is the text the reloader compares later changes with.
    let text = std::fs::read_to_string(&config).map_err(|source| LoadError::Read {
        path: config.clone(),
        source,
    })?;
    let (loaded, _) = load_in(&text, base_dir(&config));
    let loaded = loaded?;
    let settings = &loaded.settings;
    let listeners = bind(&args, settings).await?;
    let tls_routes = loaded
        .table
        .routes
        .iter()
        .filter(|r| r.tls.is_some())
        .count();
    if listeners.https.is_none() && tls_routes > 0 {
        tracing::warn!(
            routes = tls_routes,
            "routes have certificates but no TLS listener is configured (--https-listen or spec.listen.https)"
        );
    }
    tracing::info!(routes = loaded.table.routes.len(), config = %config.display(), "wsgate proxy listening");

    let shutdown_timeout = settings.shutdown_timeout.max(Duration::from_secs(1));
    let shared = settings.shared_state.clone();
    check_shared_files(&shared)?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let shutdown = CancellationToken::new();
    let (source, tables) = FileSource::start(config, &text, loaded, metrics.clone());
    tokio::spawn(source.run(args.watch_interval, shutdown.clone()));
    tokio::spawn(shutdown_on_signal(shutdown.clone()));
    wsgate_proxy::run(
        listeners,
        tables,
        metrics,
        shutdown,
        shutdown_timeout,
        shared,
    )
    .await;
    tracing::info!("wsgate proxy stopped");
    Ok(())
}

/// Binds the listeners of `settings`, with the flags' addresses first, and announces them.
pub async fn bind(args: &ProxyArgs, settings: &ProxySettings) -> anyhow::Result<Listeners> {
    let addrs = ListenAddrs {
        http: args.listen.unwrap_or(settings.http_listen),
        https: args.https_listen.or(settings.https_listen),
        admin: args.admin_listen.unwrap_or(settings.admin_listen),
    };
    let mut options = settings.listener.clone();
    options.cookie_secret = crate::cookie_key::cookie_secret()?;
    let listeners = Listeners::bind(addrs, options)
        .await
        .context("starting the listeners")?;
    if let Some(path) = &args.addresses_file {
        listeners
            .write_addresses(path)
            .context("announcing the listeners")?;
    }
    Ok(listeners)
}

/// Reads the shared-state password and CA files once, so a wrong path stops the start with
/// a clear message instead of refusing every request that needs the store.
pub fn check_shared_files(shared: &SharedState) -> anyhow::Result<()> {
    let Some(redis) = &shared.redis else {
        return Ok(());
    };
    for (path, what) in [(&redis.password_file, "password"), (&redis.ca_file, "CA")] {
        if let Some(path) = path {
            std::fs::read(path).with_context(|| {
                format!(
                    "reading the shared-state Redis {what} file {}",
                    path.display()
                )
            })?;
        }
    }
    Ok(())
}
