//! Real Node peers from `tests/node` (Socket.IO servers and clients).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::process::{OwnedChild, Stream, output_within, start_until};

/// Limit of one `sio-client.js` run: each client gives up after 15 s by itself.
const CLIENTS_TIMEOUT: Duration = Duration::from_secs(90);

/// `tests/node`, where the Node scripts and their `node_modules` live.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Panics with the install command when the npm packages are missing.
pub fn require_node_modules() {
    let m = node_dir().join("node_modules/socket.io");
    assert!(
        m.exists(),
        "{} is missing: run `bash scripts/install-test-deps.sh`",
        m.display()
    );
}

/// A running Node Socket.IO server, stopped on drop.
pub struct SocketIoServer {
    child: OwnedChild,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Requests it refused with "Session ID unknown" so far.
    unknown_sessions: Arc<AtomicUsize>,
}

impl SocketIoServer {
    /// Starts `sio-server.js` on a free port under `name`.
    pub fn start(name: &str) -> SocketIoServer {
        Self::start_on(0, name)
    }

    /// Starts `sio-server.js` on `port` (0: a free one) under `name`.
    pub fn start_on(port: u16, name: &str) -> SocketIoServer {
        require_node_modules();
        let mut cmd = Command::new("node");
        cmd.arg(node_dir().join("sio-server.js"))
            .args([port.to_string().as_str(), name])
            .current_dir(node_dir())
            .stderr(Stdio::inherit());
        let unknown_sessions = Arc::new(AtomicUsize::new(0));
        let counter = unknown_sessions.clone();
        let (child, port) = start_until(
            &mut cmd,
            "node sio-server.js",
            Stream::Stdout,
            "listening ",
            Duration::from_secs(30),
            move |line| {
                if line.contains("Session ID unknown") {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            },
        );
        SocketIoServer {
            child,
            port: port.parse().expect("port"),
            unknown_sessions,
        }
    }

    /// Sends SIGTERM, as the kubelet does to stop a container.
    pub fn terminate(&self) {
        crate::process::signal(self.child.id(), "TERM");
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().is_none()
    }

    /// Waits (without blocking the runtime) up to `limit` for the process to exit.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        self.child.exited_within(limit).await
    }

    /// Requests this server refused with "Session ID unknown" (a session's request that
    /// reached the wrong server) so far.
    pub fn unknown_sessions(&self) -> usize {
        self.unknown_sessions.load(Ordering::Relaxed)
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

/// Result of a `sio-client.js` run.
#[derive(Debug)]
pub struct ClientRun {
    /// Clients that polled, upgraded to websocket and got their echo.
    pub ok: u64,
    /// Clients started.
    pub total: u64,
    /// Error strings reported by failing clients.
    pub errors: Vec<String>,
    /// Full output.
    pub output: String,
}

/// Runs `sio-client.js URL N [CA]` to completion (at most [`CLIENTS_TIMEOUT`]). Blocking.
pub fn run_clients(url: &str, n: usize, ca: Option<&std::path::Path>) -> ClientRun {
    require_node_modules();
    let mut cmd = Command::new("node");
    cmd.arg(node_dir().join("sio-client.js"))
        .arg(url)
        .arg(n.to_string());
    if let Some(ca) = ca {
        cmd.arg(ca);
    }
    let out = output_within(
        cmd.current_dir(node_dir()),
        "sio-client.js",
        CLIENTS_TIMEOUT,
    );
    let output = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = output
        .lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .filter(|v| v.get("total").is_some())
        })
        .unwrap_or_else(|| {
            panic!(
                "no summary from sio-client.js: {output}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    ClientRun {
        ok: summary["ok"].as_u64().unwrap_or(0),
        total: summary["total"].as_u64().unwrap_or(0),
        errors: summary["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        output,
    }
}
