//! Certificate material from PEM: chain and key parsed, checked to belong together, and the
//! leaf's expiry read.

pub mod der;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::table::TlsCert;

/// Why certificate material was refused. [`CertError::field`] says which input is at fault.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// No `CERTIFICATE` block.
    #[error("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    /// A certificate block is malformed.
    #[error("invalid PEM certificate: {0}")]
    CertificatePem(String),
    /// No usable key block.
    #[error(
        "no PEM private key found (expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY; encrypted keys are not supported)"
    )]
    NoKey,
    /// A key block is malformed.
    #[error("invalid PEM private key: {0}")]
    KeyPem(String),
    /// The key's algorithm or encoding is not supported.
    #[error("unsupported private key: {0}")]
    UnsupportedKey(rustls::Error),
    /// The key does not belong to the leaf certificate.
    #[error("the private key does not match the certificate (leaf first in the chain?)")]
    KeyMismatch,
    /// The leaf certificate cannot be parsed.
    #[error("invalid certificate: {0}")]
    BadCertificate(rustls::Error),
}

impl CertError {
    /// `cert` or `key`: the input the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::NoCertificate | Self::CertificatePem(_) | Self::BadCertificate(_) => "cert",
            Self::NoKey | Self::KeyPem(_) | Self::UnsupportedKey(_) | Self::KeyMismatch => "key",
        }
    }
}

/// Parsed, consistent certificate material.
#[derive(Debug, Clone)]
pub struct ParsedCert {
    /// Chain and signing key, ready for rustls.
    pub key: Arc<CertifiedKey>,
    /// Leaf `notAfter` as Unix seconds (`None` if unreadable).
    pub not_after: Option<i64>,
}

/// Parses and checks `cert` with `provider`'s key loader.
pub fn parse(cert: &TlsCert, provider: &CryptoProvider) -> Result<ParsedCert, CertError> {
    let chain = parse_chain(&cert.cert_chain_pem)?;
    let key = PrivateKeyDer::from_pem_slice(&cert.key_pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => CertError::NoKey,
        other => CertError::KeyPem(other.to_string()),
    })?;
    let not_after = chain.first().and_then(|leaf| der::not_after(leaf));
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(CertError::UnsupportedKey)?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(CertError::KeyMismatch);
        }
        // Keys whose public half the provider cannot derive are checked by the handshake.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(other) => return Err(CertError::BadCertificate(other)),
    }
    Ok(ParsedCert {
        key: Arc::new(certified),
        not_after,
    })
}

/// Every certificate of a PEM bundle (a chain or a CA bundle), in order.
pub fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::CertificatePem(e.to_string()))?;
    if chain.is_empty() {
        return Err(CertError::NoCertificate);
    }
    Ok(chain)
}

#[cfg(test)]
mod tests;
