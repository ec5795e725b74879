//! TLS from wsgate to a backend's endpoints: verified against the route's CA bundle, or
//! (explicitly) not verified at all.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use wsgate_core::cert::parse_chain;
use wsgate_core::table::UpstreamTls;

/// A ready TLS client for one backend (or the reason it could not be built).
#[derive(Clone)]
pub struct UpstreamConnector {
    connector: Result<TlsConnector, Arc<str>>,
    server_name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for UpstreamConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConnector")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl UpstreamConnector {
    /// The client for a rule of the table being applied. Material is validated when the
    /// table is built, so failing here is unexpected; if it does, connections to the backend
    /// fail with the reason rather than falling back to plaintext.
    pub fn for_rule(spec: &UpstreamTls, route: &str) -> Arc<Self> {
        Arc::new(Self::build(spec, route).unwrap_or_else(|e| {
            tracing::error!(route = %route, error = %e, "backend TLS settings unusable; its connections fail");
            Self {
                connector: Err(e.into()),
                server_name: None,
            }
        }))
    }

    /// Builds the client for `spec`; `route` names it in the skip-verify warning.
    pub fn build(spec: &UpstreamTls, route: &str) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let mut config = if spec.insecure_skip_verify {
            tracing::warn!(route = %route, "backend TLS certificate is NOT verified (insecureSkipVerify): traffic is encrypted but the backend is not authenticated");
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
                .with_no_client_auth()
        } else {
            let pem = spec
                .ca_pem
                .as_deref()
                .ok_or("a CA bundle is required unless insecureSkipVerify is set")?;
            let mut roots = RootCertStore::empty();
            for cert in parse_chain(pem).map_err(|e| e.to_string())? {
                roots
                    .add(cert)
                    .map_err(|e| format!("CA certificate: {e}"))?;
            }
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| e.to_string())?;
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let server_name = match &spec.server_name {
            Some(name) => Some(
                ServerName::try_from(name.clone())
                    .map_err(|_| format!("{name:?} is not a valid server name"))?,
            ),
            None => None,
        };
        Ok(Self {
            connector: Ok(TlsConnector::from(Arc::new(config))),
            server_name,
        })
    }

    /// Runs the client handshake on a connected stream to `addr`.
    pub async fn connect(
        &self,
        addr: SocketAddr,
        stream: TcpStream,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let connector = self
            .connector
            .as_ref()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let name = self
            .server_name
            .clone()
            .unwrap_or_else(|| ServerName::IpAddress(addr.ip().into()));
        connector.connect(name, stream).await
    }
}

/// Accepts any certificate but still checks the handshake signatures, so the session is at
/// least bound to the key the backend presented.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
