//! The webhook's serving certificate, read from PEM files (a mounted Secret) and read again
//! when they change, so a rotated certificate (the chart's or cert-manager's) is served
//! without a restart. A bad new pair is refused with a log line; the old one stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_util::sync::CancellationToken;
use wsgate_core::cert::parse;
use wsgate_core::table::{TlsCert, TlsVersion};

/// Why the certificate cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum CertFilesError {
    /// A file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The pair is not a usable certificate and key.
    #[error("{cert} / {key}: {message}")]
    Invalid {
        /// Certificate file.
        cert: PathBuf,
        /// Key file.
        key: PathBuf,
        /// Why.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// A certificate and key file pair, served and followed.
#[derive(Debug)]
pub struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    current: ArcSwap<CertifiedKey>,
    /// The file contents in force, to notice a change.
    loaded: Mutex<(Vec<u8>, Vec<u8>)>,
}

impl CertFiles {
    /// Reads and checks the pair.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Self>, CertFilesError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| CertFilesError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let (cert_pem, key_pem) = (read(cert)?, read(key)?);
        let parsed = certified(cert, key, &cert_pem, &key_pem)?;
        Ok(Arc::new(Self {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: ArcSwap::new(parsed),
            loaded: Mutex::new((cert_pem, key_pem)),
        }))
    }

    /// A TLS 1.2+ server configuration (ALPN `http/1.1`) serving the current pair.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, CertFilesError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Reads the files every `every` until `stop`, switching to a changed, valid pair.
    pub async fn follow(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let (Ok(cert_pem), Ok(key_pem)) = (
                tokio::fs::read(&self.cert).await,
                tokio::fs::read(&self.key).await,
            ) else {
                continue;
            };
            let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
            if loaded.0 == cert_pem && loaded.1 == key_pem {
                continue;
            }
            match certified(&self.cert, &self.key, &cert_pem, &key_pem) {
                Ok(parsed) => {
                    self.current.store(parsed);
                    *loaded = (cert_pem, key_pem);
                    tracing::info!(cert = %self.cert.display(), "serving certificate reloaded");
                }
                // A Secret update may land one file before the other: try again next time.
                Err(e) => tracing::warn!(error = %e, "serving certificate not reloaded"),
            }
        }
    }
}

impl ResolvesServerCert for CertFiles {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

fn certified(
    cert: &Path,
    key: &Path,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<CertifiedKey>, CertFilesError> {
    let material = TlsCert {
        cert_chain_pem: Arc::from(cert_pem),
        key_pem: Arc::from(key_pem),
        min_version: TlsVersion::Tls12,
    };
    let provider = rustls::crypto::ring::default_provider();
    parse(&material, &provider)
        .map(|p| p.key)
        .map_err(|e| CertFilesError::Invalid {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            message: e.to_string(),
        })
}
