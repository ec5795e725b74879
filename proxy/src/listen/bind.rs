//! The sockets the proxy serves on: bound by the caller (tests bind port 0), announced in
//! the log and, for scripts and tests, in a small JSON file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::net::TcpListener;
use wsgate_core::table::security::ListenerOptions;

/// Sockets the proxy serves on.
pub struct Listeners {
    /// Plaintext HTTP/WebSocket listener.
    pub http: TcpListener,
    /// TLS listener (`wss://`, `https://`), if configured.
    pub https: Option<TcpListener>,
    /// Admin listener.
    pub admin: TcpListener,
    /// PROXY protocol, trusted proxies and request-head limits.
    pub options: ListenerOptions,
}

/// Where to listen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenAddrs {
    /// Plaintext HTTP/WebSocket listener.
    pub http: SocketAddr,
    /// TLS listener, if any.
    pub https: Option<SocketAddr>,
    /// Admin listener (`/healthz`, `/readyz`, `/metrics`).
    pub admin: SocketAddr,
}

/// Why the listeners could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Binding a listener failed.
    #[error("binding the {listener} listener {addr}: {source}")]
    Bind {
        /// `HTTP`, `HTTPS` or `admin`.
        listener: &'static str,
        /// Address asked for.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// A bound listener has no local address.
    #[error("reading the {listener} listener address: {source}")]
    LocalAddr {
        /// `HTTP`, `HTTPS` or `admin`.
        listener: &'static str,
        /// Cause.
        source: std::io::Error,
    },
    /// The addresses file could not be written.
    #[error("writing {}: {source}", path.display())]
    AddressesFile {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl Listeners {
    /// Binds every listener of `addrs` and logs where each listens.
    pub async fn bind(addrs: ListenAddrs, options: ListenerOptions) -> Result<Self, BindError> {
        let http = bind_one("HTTP", addrs.http).await?;
        let admin = bind_one("admin", addrs.admin).await?;
        let https = match addrs.https {
            Some(addr) => Some(bind_one("HTTPS", addr).await?),
            None => None,
        };
        let listeners = Self {
            http,
            https,
            admin,
            options,
        };
        for (name, addr) in listeners.local_addrs()? {
            tracing::info!(listener = name, address = %addr, "listening");
        }
        Ok(listeners)
    }

    /// The bound addresses by listener name (`http`, `admin`, `https`).
    pub fn local_addrs(&self) -> Result<Vec<(&'static str, SocketAddr)>, BindError> {
        let addr = |listener: &'static str, l: &TcpListener| {
            l.local_addr()
                .map(|a| (listener, a))
                .map_err(|source| BindError::LocalAddr { listener, source })
        };
        let mut out = vec![addr("http", &self.http)?, addr("admin", &self.admin)?];
        if let Some(l) = &self.https {
            out.push(addr("https", l)?);
        }
        Ok(out)
    }

    /// Writes the bound addresses as a JSON object (`{"http":"127.0.0.1:PORT",...}`) to
    /// `path`, for scripts and tests that bind port 0.
    pub fn write_addresses(&self, path: &Path) -> Result<(), BindError> {
        let pairs: Vec<String> = self
            .local_addrs()?
            .iter()
            .map(|(n, a)| format!("\"{n}\":\"{a}\""))
            .collect();
        let json = format!("{{{}}}\n", pairs.join(","));
        std::fs::write(path, json).map_err(|source| BindError::AddressesFile {
            path: path.to_path_buf(),
            source,
        })
    }
}

async fn bind_one(listener: &'static str, addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| BindError::Bind {
            listener,
            addr,
            source,
        })
}
