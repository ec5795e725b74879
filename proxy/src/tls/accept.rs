//! One TLS handshake on the listener: read the ClientHello, pick the configuration by SNI
//! from the store in force, finish the handshake. An unknown name is refused with an
//! `unrecognized_name` alert, never answered with some other host's certificate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use rustls::server::{Accepted, Acceptor};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::StartHandshake;
use tokio_rustls::server::TlsStream;

use super::store::CertStore;
use crate::metrics::TlsMetrics;

/// Longest time a client may take to complete the handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A fatal `unrecognized_name` (112) alert record.
const UNRECOGNIZED_NAME_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 112];

/// Why a handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// No certificate for the requested name and no default certificate.
    #[error("no certificate for server name {0:?}")]
    UnrecognizedName(Option<String>),
    /// The client's TLS is not acceptable (old version, no shared cipher suite, ...).
    #[error("TLS handshake refused: {0}")]
    Tls(rustls::Error),
    /// The client closed or the socket failed.
    #[error("connection failed during the TLS handshake: {0}")]
    Io(std::io::Error),
    /// The handshake took longer than [`HANDSHAKE_TIMEOUT`].
    #[error("TLS handshake not completed within {HANDSHAKE_TIMEOUT:?}")]
    Timeout,
}

impl HandshakeError {
    /// Metric label.
    pub fn result(&self) -> &'static str {
        match self {
            Self::UnrecognizedName(_) => "unrecognized_name",
            Self::Tls(rustls::Error::PeerIncompatible(_)) => "incompatible",
            Self::Tls(rustls::Error::AlertReceived(_)) => "client_alert",
            Self::Tls(_) => "protocol_error",
            Self::Io(_) => "aborted",
            Self::Timeout => "timeout",
        }
    }

    fn from_io(e: std::io::Error) -> Self {
        // tokio-rustls wraps rustls errors in io::Error(InvalidData).
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => Self::Tls(tls.clone()),
            None => Self::Io(e),
        }
    }
}

/// Runs the server side of a handshake on `io`, recording the result and latency.
pub async fn accept<IO>(
    io: IO,
    store: &ArcSwap<CertStore>,
    metrics: &TlsMetrics,
) -> Result<TlsStream<IO>, HandshakeError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    let result = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(io, store)).await {
        Ok(r) => r,
        Err(_) => Err(HandshakeError::Timeout),
    };
    match &result {
        Ok(stream) => {
            let version = version_label(stream.get_ref().1.protocol_version());
            metrics.handshakes.with_label_values(&["ok", version]).inc();
            metrics
                .handshake_seconds
                .with_label_values(&[version])
                .observe(started.elapsed().as_secs_f64());
        }
        Err(e) => metrics
            .handshakes
            .with_label_values(&[e.result(), ""])
            .inc(),
    }
    result
}

async fn handshake<IO>(
    mut io: IO,
    store: &ArcSwap<CertStore>,
) -> Result<TlsStream<IO>, HandshakeError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let accepted = read_client_hello(&mut io).await?;
    let sni = accepted.client_hello().server_name().map(str::to_owned);
    let config: Option<Arc<rustls::ServerConfig>> = store.load().lookup(sni.as_deref()).cloned();
    let Some(config) = config else {
        // Best effort: the client may already be gone.
        let _ = io.write_all(&UNRECOGNIZED_NAME_ALERT).await;
        let _ = io.shutdown().await;
        return Err(HandshakeError::UnrecognizedName(sni));
    };
    StartHandshake::from_parts(accepted, io)
        .into_stream(config)
        .await
        .map_err(HandshakeError::from_io)
}

/// Feeds socket bytes to a rustls [`Acceptor`] until the ClientHello is complete. Bytes
/// after it stay buffered in the returned [`Accepted`].
async fn read_client_hello<IO>(io: &mut IO) -> Result<Accepted, HandshakeError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut acceptor = Acceptor::default();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = io.read(&mut buf).await.map_err(HandshakeError::Io)?;
        if n == 0 {
            return Err(HandshakeError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            acceptor.read_tls(&mut chunk).map_err(HandshakeError::Io)?;
            match acceptor.accept() {
                Ok(Some(accepted)) if chunk.is_empty() => return Ok(accepted),
                Ok(Some(_)) => {
                    // A client does not send more before the server's first flight.
                    return Err(HandshakeError::Tls(rustls::Error::General(
                        "data after the ClientHello".into(),
                    )));
                }
                Ok(None) => {}
                Err((e, mut alert)) => {
                    let mut out = Vec::new();
                    let _ = alert.write_all(&mut out);
                    let _ = io.write_all(&out).await;
                    return Err(HandshakeError::Tls(e));
                }
            }
        }
    }
}

/// `TLSv1.2` / `TLSv1.3` for metrics.
pub(crate) fn version_label(v: Option<rustls::ProtocolVersion>) -> &'static str {
    match v {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "other",
    }
}
