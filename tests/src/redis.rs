//! A real `redis-server` for one test: no persistence, loopback only, stopped (by its PID)
//! on drop, restartable on the same port (to test reconnection), optionally TLS-only or
//! with ACL users.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use crate::process::{OwnedChild, Stream, try_start_until};

/// How long redis-server may take to say it is ready.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A `redis-server` process.
pub struct Redis {
    child: Option<OwnedChild>,
    /// Where it listens (TCP, or TLS when started with [`Redis::start_tls`]).
    pub addr: SocketAddr,
    extra: Vec<String>,
    tls: bool,
}

impl Redis {
    /// Starts redis-server on a free loopback port.
    pub fn start() -> Redis {
        Redis::start_with(&[])
    }

    /// Starts redis-server with extra arguments (config directives such as
    /// `--user alice on >pw ~* &* +@all`).
    pub fn start_with(extra: &[&str]) -> Redis {
        Redis::launch(extra.iter().map(|s| s.to_string()).collect(), false)
    }

    /// Starts redis-server speaking TLS only, with `cert` and `key` (PEM files); clients
    /// are not asked for certificates.
    pub fn start_tls(cert: &str, key: &str, ca: &str) -> Redis {
        let extra = [
            "--tls-cert-file",
            cert,
            "--tls-key-file",
            key,
            "--tls-ca-cert-file",
            ca,
            "--tls-auth-clients",
            "no",
        ];
        Redis::launch(extra.iter().map(|s| s.to_string()).collect(), true)
    }

    /// Redis cannot take port 0, so a free port is picked and, should another process take
    /// it first (redis then reports the bind error), another one; the address is only used
    /// once redis itself says it is ready, so tests never talk to somebody else's server.
    fn launch(extra: Vec<String>, tls: bool) -> Redis {
        let mut failures = Vec::new();
        for _ in 0..5 {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = probe.local_addr().expect("addr");
            drop(probe);
            match spawn(addr, &extra, tls) {
                Ok(child) => {
                    return Redis {
                        child: Some(child),
                        addr,
                        extra,
                        tls,
                    };
                }
                Err(e) if e.contains("Address already in use") => failures.push(e),
                Err(e) => panic!("{e}"),
            }
        }
        panic!("redis-server found no free port: {failures:?}");
    }

    /// `redis://` (or `rediss://localhost:port` for TLS) URL.
    pub fn url(&self) -> String {
        if self.tls {
            format!("rediss://localhost:{}", self.addr.port())
        } else {
            format!("redis://{}", self.addr)
        }
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(&mut self) {
        self.child.take();
    }

    /// Starts the server again on the same port, empty (no persistence).
    pub fn restart(&mut self) {
        self.stop();
        let child = spawn(self.addr, &self.extra, self.tls)
            .unwrap_or_else(|e| panic!("restarting redis-server on {}: {e}", self.addr));
        self.child = Some(child);
    }

    /// Runs `redis-cli` against this server (plain TCP only) and returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = crate::process::output_within(
            Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &self.addr.port().to_string()])
                .args(args),
            "redis-cli",
            Duration::from_secs(10),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

fn spawn(addr: SocketAddr, extra: &[String], tls: bool) -> Result<OwnedChild, String> {
    let port = addr.port().to_string();
    let mut cmd = Command::new("redis-server");
    if tls {
        cmd.args(["--port", "0", "--tls-port", &port]);
    } else {
        cmd.args(["--port", &port]);
    }
    cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(extra);
    try_start_until(
        &mut cmd,
        "redis-server (bash scripts/install-test-deps.sh)",
        Stream::Stdout,
        "Ready to accept connections",
        START_LIMIT,
        |_| {},
    )
    .map(|(child, _)| child)
}
