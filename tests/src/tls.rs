//! Real TLS clients (rustls) for `wss://` and `https://` through wsgate: the test chooses
//! SNI, trusted CA and protocol versions, and can look at what the server presented.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::wait::IO_TIMEOUT;

/// A WebSocket over TLS.
pub type Wss = WebSocketStream<TlsStream<TcpStream>>;

/// A client trusting only `ca_pem`, offering ALPN `http/1.1`. `tls13_only` / `tls12_only`
/// restrict the versions offered; neither offers both.
pub fn client_config(ca_pem: &str, versions: Versions) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match versions {
        Versions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Versions::Tls12 => &[&rustls::version::TLS12],
        Versions::Tls13 => &[&rustls::version::TLS13],
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// TLS versions a client offers.
#[derive(Clone, Copy, Debug)]
pub enum Versions {
    /// 1.2 and 1.3.
    Both,
    /// 1.2 only.
    Tls12,
    /// 1.3 only.
    Tls13,
}

/// Connects to `addr` and runs the TLS handshake with `sni` as the server name, within
/// [`IO_TIMEOUT`] (else a `TimedOut` error).
pub async fn tls_connect(
    addr: SocketAddr,
    sni: &str,
    config: Arc<ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(sni.to_string()).map_err(std::io::Error::other)?;
    let handshake = async {
        let tcp = TcpStream::connect(addr).await?;
        TlsConnector::from(config).connect(name, tcp).await
    };
    tokio::time::timeout(IO_TIMEOUT, handshake)
        .await
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no TLS handshake with {addr} within {IO_TIMEOUT:?}"),
            )
        })?
}

/// Opens `wss://{sni}{path}` on `addr`, each step within [`IO_TIMEOUT`].
pub async fn wss_connect(
    addr: SocketAddr,
    sni: &str,
    path: &str,
    config: Arc<ClientConfig>,
) -> anyhow::Result<Wss> {
    let tls = tls_connect(addr, sni, config).await?;
    let request = format!("wss://{sni}{path}").into_client_request()?;
    let (ws, _) = tokio::time::timeout(IO_TIMEOUT, tokio_tungstenite::client_async(request, tls))
        .await
        .map_err(|_| anyhow::anyhow!("no WebSocket handshake within {IO_TIMEOUT:?}"))??;
    Ok(ws)
}

/// DER of the leaf certificate the server presented.
pub fn peer_leaf(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default()
}

/// The rustls error inside an I/O error from a handshake, if any.
pub fn tls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

/// DER of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("PEM")
        .to_vec()
}
