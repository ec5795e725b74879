//! Opening WebSocket connections: TCP from a chosen loopback source, TLS when the URL says
//! `wss://`, then the upgrade with a pre-built request.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_util::either::Either;

use crate::wire;

/// Where and how to connect, resolved once from a URL.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    request: Arc<[u8]>,
}

/// TLS client settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kx {
    /// ECDHE on P-256 (secp256r1).
    P256,
    /// ECDHE on X25519.
    X25519,
}

impl Target {
    /// Parses `ws://IP:PORT/path` or `wss://localhost:PORT/path` (`localhost` is connected
    /// to as 127.0.0.1 and used as the SNI name).
    pub fn parse(url: &str, tls: Option<&TlsConnector>) -> anyhow::Result<Target> {
        let (wss, rest) = if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else {
            bail!("{url}: only ws:// and wss:// URLs");
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let (host, port) = authority
            .rsplit_once(':')
            .with_context(|| format!("{url}: the URL needs a port"))?;
        let ip = if host == "localhost" {
            "127.0.0.1"
        } else {
            host
        };
        let addr = SocketAddr::new(
            ip.parse().context("host must be an IP or localhost")?,
            port.parse()?,
        );
        let tls = if wss {
            let connector = tls.context("wss:// needs --ca FILE")?.clone();
            Some((connector, ServerName::try_from(host.to_string())?))
        } else {
            None
        };
        let request = wire::upgrade_request(authority, path).into();
        Ok(Target { addr, tls, request })
    }

    /// Connects from source address 127.0.0.(2 + i % 250) and upgrades. Returns the
    /// connection and any bytes that arrived after the `101`.
    pub async fn open(&self, i: usize) -> anyhow::Result<(Conn, Vec<u8>)> {
        let socket = TcpSocket::new_v4()?;
        let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 250) as u8));
        socket.bind(SocketAddr::new(src, 0))?;
        let stream = socket.connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let mut conn = match &self.tls {
            Some((connector, name)) => {
                Either::Right(Box::new(connector.connect(name.clone(), stream).await?))
            }
            None => Either::Left(stream),
        };
        conn.write_all(&self.request).await?;
        let mut buf = Vec::with_capacity(512);
        loop {
            if buf.len() > 16 * 1024 {
                bail!("upgrade response head too large");
            }
            if conn.read_buf(&mut buf).await? == 0 {
                bail!("closed during the upgrade");
            }
            if let Some(n) = wire::head_len(&buf) {
                wire::check_upgrade_response(&buf[..n]).map_err(anyhow::Error::msg)?;
                buf.drain(..n);
                return Ok((conn, buf));
            }
        }
    }
}

/// The TLS client: trusts `ca`, TLS 1.3 only, one key-exchange group, no resumption (every
/// connection is a full handshake for the server; see [`RememberingVerifier`] for the
/// client's side).
pub fn tls_connector(ca: &std::path::Path, kx: Kx) -> anyhow::Result<TlsConnector> {
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert?)?;
    }
    let mut provider = rustls::crypto::ring::default_provider();
    provider.kx_groups = vec![match kx {
        Kx::P256 => rustls::crypto::ring::kx_group::SECP256R1,
        Kx::X25519 => rustls::crypto::ring::kx_group::X25519,
    }];
    let provider = Arc::new(provider);
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()?;
    let verifier = Arc::new(RememberingVerifier {
        inner: webpki,
        verified: Mutex::new(HashSet::new()),
        signed: Mutex::new(HashSet::new()),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Verifies each distinct (certificate, name) chain once, and a certificate's handshake
/// signature on its first handshake; afterwards both are trusted. The client side of a TLS 1.3
/// handshake costs more than the server side (ECDSA verification is dearer than signing), so
/// verifying every time would make the generator, not the proxy, the bottleneck; the proxy's
/// own work (key exchange and signing) is the same either way.
#[derive(Debug)]
struct RememberingVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    verified: Mutex<HashSet<(Vec<u8>, String)>>,
    signed: Mutex<HashSet<Vec<u8>>>,
}

impl ServerCertVerifier for RememberingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let key = (end_entity.to_vec(), server_name.to_str().into_owned());
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if !verified.contains(&key) {
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
            verified.insert(key);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let mut signed = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        if !signed.contains(cert.as_ref()) {
            self.inner.verify_tls13_signature(message, cert, dss)?;
            signed.insert(cert.to_vec());
        }
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A client connection, plain or TLS.
pub type Conn = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;
