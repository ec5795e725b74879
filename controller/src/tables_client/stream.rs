//! One connection to the table server: mutual TLS, HTTP/2, `GET /v1/tables`, then event lines
//! until the stream ends or falls silent.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::{Buf, BytesMut};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::tables_client::target::Target;
use crate::tables_event::{MAX_LINE, PATH, READ_DEADLINE};

/// Time allowed to connect, shake hands and get the response head.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An open stream of event lines.
pub(super) struct Lines {
    body: hyper::body::Incoming,
    buf: BytesMut,
    // Keeps the connection's request sender alive for as long as the stream.
    _sender: http2::SendRequest<Empty<Bytes>>,
}

/// Connects and subscribes, resuming from `resume` (`<instance>.<version>`).
pub(super) async fn open(target: &Target, resume: Option<&str>) -> anyhow::Result<Lines> {
    tokio::time::timeout(CONNECT_TIMEOUT, open_inner(target, resume))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {CONNECT_TIMEOUT:?}"))?
}

async fn open_inner(target: &Target, resume: Option<&str>) -> anyhow::Result<Lines> {
    // Read at every connection, so rotated client certificates are picked up.
    let config = client_config(target).await?;
    let tcp = TcpStream::connect(&target.authority)
        .await
        .with_context(|| format!("connecting to {}", target.authority))?;
    let name = ServerName::try_from(target.host.clone()).context("server name")?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .context("TLS handshake")?;
    let (mut sender, conn) = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .handshake(TokioIo::new(tls))
        .await
        .context("HTTP/2 handshake")?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "table stream connection ended");
        }
    });
    let mut uri = format!("https://{}{PATH}", target.authority);
    if let Some(resume) = resume {
        uri.push_str("?resume=");
        uri.push_str(resume);
    }
    let request = Request::get(uri).body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await.context("request")?;
    if response.status() != StatusCode::OK {
        bail!("the controller answered {}", response.status());
    }
    Ok(Lines {
        body: response.into_body(),
        buf: BytesMut::new(),
        _sender: sender,
    })
}

impl Lines {
    /// The next event line; an error when the stream ends, fails or is silent past the
    /// read deadline.
    pub(super) async fn next(&mut self) -> anyhow::Result<Bytes> {
        loop {
            if let Some(at) = self.buf.iter().position(|b| *b == b'\n') {
                let line = self.buf.split_to(at + 1).freeze();
                return Ok(line.slice(..at));
            }
            if self.buf.len() > MAX_LINE {
                bail!("an event is longer than {MAX_LINE} bytes");
            }
            let frame = tokio::time::timeout(READ_DEADLINE, self.body.frame())
                .await
                .map_err(|_| anyhow::anyhow!("nothing received for {READ_DEADLINE:?}"))?;
            match frame {
                None => bail!("the controller ended the stream"),
                Some(Err(e)) => bail!("stream: {e}"),
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            self.buf.extend_from_slice(chunk);
                            let n = chunk.len();
                            data.advance(n);
                        }
                    }
                }
            }
        }
    }
}

/// TLS 1.2+, ALPN `h2`, trusting only the tables CA, presenting the client certificate.
async fn client_config(target: &Target) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let ca = read(&target.ca).await?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.with_context(|| format!("{}: PEM", target.ca.display()))?)?;
    }
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&read(&target.cert).await?)
            .collect::<Result<_, _>>()
            .with_context(|| format!("{}: PEM", target.cert.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&target.key).await?)
        .with_context(|| format!("{}: no private key", target.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .context("client certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

async fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))
}
