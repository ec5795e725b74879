//! `wsgate proxy`: load the routes file, bind the listeners, run the data plane, reload the
//! file when it changes, and drain on SIGTERM/SIGINT.

use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use wsgate_proxy::config::{FileSource, ProxySettings, load_file};
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
    if let Some(https) = args.https_listen {
        settings.https_listen = Some(https);
    }
    let listeners = bind(&settings, args.addresses_file.as_deref()).await?;
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
    tracing::info!(routes = loaded.table.routes.len(), config = %args.config.display(), "wsgate proxy listening");

    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let shutdown = CancellationToken::new();
    let (source, tables) = FileSource::start(args.config.clone(), &text, loaded, metrics.clone());
    tokio::spawn(source.run(args.watch_interval, shutdown.clone()));
    tokio::spawn(shutdown_on_signal(shutdown.clone()));
    wsgate_proxy::run(
        listeners,
        tables,
        metrics,
        shutdown,
        settings.shutdown_timeout.max(Duration::from_secs(1)),
    )
    .await;
    tracing::info!("wsgate proxy stopped");
    Ok(())
}

/// Binds the listeners and, if asked, writes their addresses as JSON for scripts and tests.
async fn bind(
    settings: &ProxySettings,
    addresses_file: Option<&std::path::Path>,
) -> anyhow::Result<Listeners> {
    let http = TcpListener::bind(settings.http_listen)
        .await
        .with_context(|| format!("binding the HTTP listener {}", settings.http_listen))?;
    let admin = TcpListener::bind(settings.admin_listen)
        .await
        .with_context(|| format!("binding the admin listener {}", settings.admin_listen))?;
    let https = match settings.https_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the HTTPS listener {addr}"))?,
        ),
        None => None,
    };
    let mut fields = vec![
        (
            "http",
            http.local_addr()
                .context("reading the HTTP listener address")?,
        ),
        (
            "admin",
            admin
                .local_addr()
                .context("reading the admin listener address")?,
        ),
    ];
    if let Some(l) = &https {
        fields.push((
            "https",
            l.local_addr()
                .context("reading the HTTPS listener address")?,
        ));
    }
    for (name, addr) in &fields {
        tracing::info!(listener = name, address = %addr, "listening");
    }
    if let Some(path) = addresses_file {
        let pairs: Vec<String> = fields
            .iter()
            .map(|(n, a)| format!("\"{n}\":\"{a}\""))
            .collect();
        let json = format!("{{{}}}\n", pairs.join(","));
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Listeners {
        http,
        https,
        admin,
        options: settings.listener.clone(),
    })
}
