//! Shared by the TLS test files: test PKI and routes-file snippets with certificates.

#![allow(dead_code)]

pub mod certs;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use wsgate_tests::wsgate::Wsgate;

/// A route document for `hosts` (empty: every host) to `backend`, serving `cert` (directory
/// holding `tls.crt` and `tls.key`) with extra `tls:` fields, and `extra` YAML under `spec:`.
pub fn tls_route(
    name: &str,
    hosts: &[&str],
    backend: SocketAddr,
    cert: Option<&Path>,
    tls_extra: &str,
    extra: &str,
) -> String {
    let hosts: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
    let tls = match cert {
        Some(dir) => format!(
            "  tls: {{certFile: \"{}\", keyFile: \"{}\"{tls_extra}}}\n",
            dir.join("tls.crt").display(),
            dir.join("tls.key").display()
        ),
        None if !tls_extra.is_empty() => {
            format!("  tls: {{{}}}\n", tls_extra.trim_start_matches(", "))
        }
        None => String::new(),
    };
    format!(
        "---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata:\n  name: {name}\nspec:\n  hostnames: [{}]\n{tls}  rules:\n    - backend:\n        addresses: [\"{backend}\"]\n{extra}",
        hosts.join(", ")
    )
}

/// Writes `tls.crt` and `tls.key` into `dir` (created if needed) and returns it.
pub fn write_pair(dir: &Path, leaf: &certs::Leaf) -> PathBuf {
    std::fs::create_dir_all(dir).expect("cert dir");
    std::fs::write(dir.join("tls.crt"), &leaf.chain_pem).expect("write cert");
    std::fs::write(dir.join("tls.key"), &leaf.key_pem).expect("write key");
    dir.to_path_buf()
}

/// Starts wsgate with a TLS listener on loopback port 0.
pub async fn start_tls(routes: &str) -> (Wsgate, SocketAddr) {
    let gw = Wsgate::launch_with(routes, &["--https-listen", "127.0.0.1:0"]).await;
    gw.wait_ready().await;
    let https = gw.https.expect("wsgate reported its https address");
    (gw, https)
}
