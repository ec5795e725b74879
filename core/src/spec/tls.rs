//! TLS parts of the spec: a route's certificate (`spec.tls`) and TLS to a backend
//! (`rules[].backend.tls`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The certificate a route's hosts are served with on the TLS listener, and its policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// Checked by the API server too (CEL), so a cluster refuses these at apply time.
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.secretName) || !(has(self.certFile) || has(self.keyFile))",
     "message": "give either secretName or certFile and keyFile, not both"},
    {"rule": "has(self.certFile) == has(self.keyFile)",
     "message": "certFile and keyFile go together"},
]))]
pub struct TlsSpec {
    /// A `kubernetes.io/tls` Secret in the route's namespace (cluster only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// PEM certificate chain file, leaf first (routes file only; relative to the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// PEM private key file: RSA, ECDSA or Ed25519 (routes file only; relative to the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// Lowest TLS version accepted for these hosts: `"1.2"` (default) or `"1.3"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<TlsMinVersion>,
    /// Do not serve these hosts in clear: plain-HTTP requests on the plaintext listener get a
    /// `308` redirect to `https://`, WebSocket upgrades a 403 naming `wss://` (default: true
    /// for a route with its own certificate, else false; a trusted proxy's
    /// `X-Forwarded-Proto: https` counts as TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_http: Option<bool>,
    /// With `redirectHttp`, answer WebSocket upgrades on the plaintext listener with the 308
    /// too, instead of the 403 (browsers do not follow redirects for `ws://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_upgrades: Option<bool>,
}

/// Lowest accepted TLS version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TlsMinVersion {
    /// TLS 1.2 and 1.3.
    #[default]
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3 only.
    #[serde(rename = "1.3")]
    Tls13,
}

/// TLS from wsgate to the backend's endpoints (the backend speaks `wss`/`https`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendTlsSpec {
    /// PEM CA bundle that signed the endpoints' certificates (routes file; relative to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// A Secret in the route's namespace holding that CA bundle (cluster only; data key
    /// default `ca.crt`; TLS Secrets, or others labelled `wsgate.dev/secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<super::security::SecretKeyRef>,
    /// Accept any certificate: encrypts but does not authenticate the backend (logged as a
    /// warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    /// Name sent as SNI and checked against the endpoint's certificate (default: the
    /// endpoint's IP address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}
