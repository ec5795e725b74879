//! TLS parts of a route: its certificate (`spec.tls`) and TLS to its backends
//! (`rules[].backend.tls`). Certificate and CA bytes come from a [`TlsMaterial`] source:
//! files for a routes file, Secrets in a cluster.

use std::sync::Arc;

use crate::cert::{CertError, parse, parse_chain};
use crate::spec::{BackendTlsSpec, RouteSpec, TlsMinVersion, TlsSpec};
use crate::table::{TlsCert, TlsVersion, UpstreamTls};

/// A rejected field: (dotted path, message).
pub type FieldFailure = (String, String);

/// PEM certificate chain and PEM private key.
pub type PemPair = (Arc<[u8]>, Arc<[u8]>);

/// Where certificate and CA bytes come from.
pub trait TlsMaterial {
    /// PEM (chain, key) of a route's certificate; `Ok(None)` when the caller fills
    /// [`crate::table::Route::tls`] itself. Errors name the failing field.
    fn certificate(&self, spec: &TlsSpec) -> Result<Option<PemPair>, FieldFailure>;
    /// PEM CA bundle of a backend; `field` is the backend's `tls` path for messages.
    fn ca_bundle(
        &self,
        spec: &BackendTlsSpec,
        field: &str,
    ) -> Result<Option<Arc<[u8]>>, FieldFailure>;
    /// Whether files named in the spec (ticket keys) may be read; false in a cluster.
    fn files_allowed(&self) -> bool {
        true
    }
}

/// Material source that reads nothing: `secretName` is left for the caller to resolve;
/// file names are refused (they belong to a routes file).
pub struct NoFiles;

impl TlsMaterial for NoFiles {
    fn certificate(&self, spec: &TlsSpec) -> Result<Option<PemPair>, FieldFailure> {
        if spec.cert_file.is_some() || spec.key_file.is_some() {
            return Err((
                "spec.tls.certFile".into(),
                "certFile and keyFile are for routes files; in a cluster use secretName".into(),
            ));
        }
        Ok(None)
    }

    fn ca_bundle(
        &self,
        spec: &BackendTlsSpec,
        field: &str,
    ) -> Result<Option<Arc<[u8]>>, FieldFailure> {
        match spec.ca_file {
            Some(_) => Err((
                format!("{field}.caFile"),
                "caFile is for routes files".into(),
            )),
            None => Ok(None),
        }
    }

    fn files_allowed(&self) -> bool {
        false
    }
}

/// The route's certificate (validated: chain and key parse and belong together) and whether
/// plain HTTP is redirected to https.
pub fn compile_route_tls(
    spec: &RouteSpec,
    material: &dyn TlsMaterial,
) -> Result<(Option<Arc<TlsCert>>, bool), FieldFailure> {
    let Some(tls) = &spec.tls else {
        return Ok((None, false));
    };
    let redirect = tls.redirect_http.unwrap_or(false);
    let files = tls.cert_file.is_some() || tls.key_file.is_some();
    match (files, &tls.secret_name) {
        (true, Some(_)) => {
            return Err((
                "spec.tls".into(),
                "give either secretName or certFile and keyFile, not both".into(),
            ));
        }
        (true, None) if tls.cert_file.is_none() => {
            return Err((
                "spec.tls.certFile".into(),
                "is required with keyFile".into(),
            ));
        }
        (true, None) if tls.key_file.is_none() => {
            return Err((
                "spec.tls.keyFile".into(),
                "is required with certFile".into(),
            ));
        }
        (false, None) if tls.min_version.is_some() => {
            return Err((
                "spec.tls.minVersion".into(),
                "applies to the route's own certificate: give certFile and keyFile (or secretName)"
                    .into(),
            ));
        }
        _ => {}
    }
    let Some((chain, key)) = material.certificate(tls)? else {
        return Ok((None, redirect));
    };
    // A route with its own certificate is not served in clear unless it says so.
    let redirect = tls.redirect_http.unwrap_or(true);
    let cert = TlsCert {
        cert_chain_pem: chain,
        key_pem: key,
        min_version: match tls.min_version.unwrap_or_default() {
            TlsMinVersion::Tls12 => TlsVersion::Tls12,
            TlsMinVersion::Tls13 => TlsVersion::Tls13,
        },
    };
    let parsed = parse(&cert, &rustls::crypto::ring::default_provider())
        .map_err(|e| (cert_field(tls, &e).into(), e.to_string()))?;
    if let Some(t) = parsed.not_after
        && t < now_unix()
    {
        tracing::warn!(certificate = ?tls.cert_file.as_ref().or(tls.secret_name.as_ref()), "the certificate has expired; clients will refuse it");
    }
    Ok((Some(Arc::new(cert)), redirect))
}

fn cert_field(tls: &TlsSpec, e: &CertError) -> &'static str {
    match (tls.secret_name.is_some(), e.field()) {
        (true, _) => "spec.tls.secretName",
        (false, "key") => "spec.tls.keyFile",
        (false, _) => "spec.tls.certFile",
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// TLS to a backend's endpoints; `field` is the backend's path (`spec.rules[0].backend`).
pub fn compile_upstream_tls(
    spec: Option<&BackendTlsSpec>,
    field: &str,
    material: &dyn TlsMaterial,
) -> Result<Option<Arc<UpstreamTls>>, FieldFailure> {
    let Some(tls) = spec else {
        return Ok(None);
    };
    let field = format!("{field}.tls");
    let insecure = tls.insecure_skip_verify.unwrap_or(false);
    if insecure && tls.ca_file.is_some() {
        return Err((
            field,
            "caFile and insecureSkipVerify exclude each other".into(),
        ));
    }
    if let Some(name) = &tls.server_name {
        rustls::pki_types::ServerName::try_from(name.as_str()).map_err(|_| {
            (
                format!("{field}.serverName"),
                format!("{name:?} is not a valid DNS name or IP address"),
            )
        })?;
    }
    let ca_pem = material.ca_bundle(tls, &field)?;
    if tls.ca_secret_ref.is_some() && ca_pem.is_none() {
        return Err((
            format!("{field}.caSecretRef"),
            "Secrets are resolved by the controller; in a routes file use caFile".into(),
        ));
    }
    if let Some(pem) = &ca_pem {
        let certs = parse_chain(pem).map_err(|e| (format!("{field}.caFile"), e.to_string()))?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs {
            roots.add(cert).map_err(|e| {
                (
                    format!("{field}.caFile"),
                    format!("not a usable CA certificate: {e}"),
                )
            })?;
        }
    } else if !insecure {
        return Err((
            field,
            "give caFile (the CA that signed the backend's certificate) or insecureSkipVerify: true"
                .into(),
        ));
    }
    Ok(Some(Arc::new(UpstreamTls {
        ca_pem,
        insecure_skip_verify: insecure,
        server_name: tls.server_name.clone(),
    })))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
