//! The controller's webhook listener: bound with the others at start-up (a missing or bad
//! certificate stops the start with its reason), then served beside the data plane.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wsgate_proxy::Listeners;

use crate::cli::ControllerArgs;
use crate::translate::Index;
use crate::webhook::certs::CertFiles;
use crate::webhook::{Webhooks, serve};

/// How often the certificate files are checked for a rotation.
const CERT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// A bound webhook listener with its certificate.
pub struct BoundWebhook {
    /// The bound address.
    pub addr: SocketAddr,
    listener: TcpListener,
    certs: Arc<CertFiles>,
    tls: Arc<rustls::ServerConfig>,
    hooks: Webhooks,
}

/// Binds `--webhook-listen` and loads its certificate; `None` when webhooks are off.
/// `snapshot` carries the translation index for validation.
pub async fn bind(
    args: &ControllerArgs,
    snapshot: watch::Receiver<Arc<Index>>,
) -> anyhow::Result<Option<BoundWebhook>> {
    let Some(addr) = args.webhook_listen else {
        return Ok(None);
    };
    let certs = CertFiles::load(&args.webhook_cert_file, &args.webhook_key_file)
        .context("webhook certificate")?;
    let tls = certs.server_config().context("webhook TLS")?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the webhook listener {addr}"))?;
    Ok(Some(BoundWebhook {
        addr: listener.local_addr()?,
        listener,
        certs,
        tls,
        hooks: Webhooks {
            image: Arc::from(args.sidecar_image.as_str()),
            snapshot,
        },
    }))
}

impl BoundWebhook {
    /// Serves until `stop`, following certificate rotations.
    pub fn spawn(self, stop: &CancellationToken) {
        tracing::info!(addr = %self.addr, "admission webhooks listening");
        tokio::spawn(self.certs.follow(CERT_CHECK_INTERVAL, stop.clone()));
        tokio::spawn(serve(self.listener, self.tls, self.hooks, stop.clone()));
    }
}

/// Writes the bound addresses (the data plane's and `webhook`) as one JSON object, atomically.
pub fn write_addresses(
    listeners: &Listeners,
    webhook: Option<SocketAddr>,
    path: &Path,
) -> anyhow::Result<()> {
    let mut map = serde_json::Map::new();
    for (name, addr) in listeners.local_addrs()? {
        map.insert(name.to_string(), addr.to_string().into());
    }
    if let Some(addr) = webhook {
        map.insert("webhook".into(), addr.to_string().into());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{}\n", serde_json::Value::Object(map)))
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("writing {}", path.display()))
}
