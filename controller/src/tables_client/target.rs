//! The flags naming the table server a proxy follows and its client certificate.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// Flags of the table client.
#[derive(Debug, Clone, Args)]
pub struct TablesFromArgs {
    /// Take route tables from `wsgate controller --serve-tables` at this `https://host:port`
    /// (split mode) instead of routes from the file, over HTTP/2 with mutual TLS.
    #[arg(long, value_name = "URL")]
    pub tables_from: Option<String>,
    /// PEM client certificate (chain) presented to the table server; re-read at each
    /// connection.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/etc/wsgate/tables/tls.crt"
    )]
    pub tables_tls_cert: PathBuf,
    /// PEM private key of the client certificate.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/etc/wsgate/tables/tls.key"
    )]
    pub tables_tls_key: PathBuf,
    /// PEM CA bundle the table server's certificate must chain to.
    #[arg(long, value_name = "PATH", default_value = "/etc/wsgate/tables/ca.crt")]
    pub tables_ca: PathBuf,
}

/// Where the tables come from.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub(super) authority: String,
    /// Server name checked against the certificate.
    pub(super) host: String,
    pub(super) cert: PathBuf,
    pub(super) key: PathBuf,
    pub(super) ca: PathBuf,
}

impl Target {
    /// The target of `--tables-from` (`https://host[:port]`, port 443 by default).
    pub fn new(url: &str, args: &TablesFromArgs) -> anyhow::Result<Self> {
        let uri: http::Uri = url.parse().context("--tables-from: not a URL")?;
        anyhow::ensure!(
            uri.scheme_str() == Some("https"),
            "--tables-from: must be an https:// URL"
        );
        anyhow::ensure!(
            matches!(uri.path(), "" | "/") && uri.query().is_none(),
            "--tables-from: give only https://host:port"
        );
        let authority = uri.authority().context("--tables-from: no host")?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        Ok(Self {
            authority: format!(
                "{}:{}",
                authority.host(),
                authority.port_u16().unwrap_or(443)
            ),
            host: host.to_string(),
            cert: args.tables_tls_cert.clone(),
            key: args.tables_tls_key.clone(),
            ca: args.tables_ca.clone(),
        })
    }

    /// Reads the certificate, key and CA files once, so a wrong path stops the start with a
    /// clear message instead of a reconnect loop.
    pub fn check_files(&self) -> anyhow::Result<()> {
        for (path, flag) in [
            (&self.cert, "--tables-tls-cert"),
            (&self.key, "--tables-tls-key"),
            (&self.ca, "--tables-ca"),
        ] {
            std::fs::read(path).with_context(|| format!("{flag} {}", path.display()))?;
        }
        Ok(())
    }
}
