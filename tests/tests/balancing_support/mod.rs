//! Peers for the balancing tests: Socket.IO servers whose "Session ID unknown" refusals are
//! counted, the affinity client, echo-backend processes that can be killed, and a few
//! WebSocket helpers.

pub mod spread;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::client::{Ws, next_data, send_msg};
use wsgate_tests::node::{node_dir, require_node_modules};
use wsgate_tests::process::{OwnedChild, Stream, output_within, start_until};

/// Limit of one `sio-affinity-client.js` run: each client gives up after 15 s by itself.
const CLIENTS_TIMEOUT: Duration = Duration::from_secs(120);

/// A Node Socket.IO server (`sio-server.js`) that counts the sessions it did not know.
pub struct SioServer {
    _child: OwnedChild,
    /// Its address on 127.0.0.1.
    pub addr: SocketAddr,
    unknown: Arc<AtomicUsize>,
}

impl SioServer {
    /// Starts a server named `name` on a free port.
    pub fn start(name: &str) -> SioServer {
        require_node_modules();
        let unknown = Arc::new(AtomicUsize::new(0));
        let counter = unknown.clone();
        let mut cmd = Command::new("node");
        cmd.arg(node_dir().join("sio-server.js"))
            .args(["0", name])
            .current_dir(node_dir())
            .stderr(Stdio::inherit());
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
        let port: u16 = port.parse().expect("port");
        SioServer {
            _child: child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            unknown,
        }
    }

    /// Requests this server refused with "Session ID unknown" so far.
    pub fn unknown_sessions(&self) -> usize {
        self.unknown.load(Ordering::Relaxed)
    }
}

/// Summary of one `sio-affinity-client.js` run.
#[derive(Debug)]
pub struct SioRun {
    /// Clients that polled, upgraded and got their echo from the server that greeted them.
    pub ok: u64,
    /// What went wrong for the others.
    pub errors: Vec<String>,
    /// Completed sessions per server name.
    pub per_backend: serde_json::Map<String, serde_json::Value>,
}

/// Runs `n` Socket.IO clients against `url` (with a cookie jar when `cookies`); with
/// `hold`, every session stays open until all are done, so the per-server counts are live.
pub async fn run_sio_clients(url: &str, n: usize, cookies: bool, hold: bool) -> SioRun {
    let mut cmd = Command::new("node");
    cmd.arg(node_dir().join("sio-affinity-client.js"))
        .arg(url)
        .arg(n.to_string())
        .arg("--concurrency=50")
        .current_dir(node_dir());
    if cookies {
        cmd.arg("--cookies");
    }
    if hold {
        cmd.arg("--hold");
    }
    let out = tokio::task::spawn_blocking(move || {
        output_within(&mut cmd, "sio-affinity-client.js", CLIENTS_TIMEOUT)
    })
    .await
    .expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary: {text}{}", String::from_utf8_lossy(&out.stderr)));
    SioRun {
        ok: summary["ok"].as_u64().unwrap_or(0),
        errors: summary["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e.to_string()).collect())
            .unwrap_or_default(),
        per_backend: summary["perBackend"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

/// A separate `echo-backend` process, so a test can kill it like a crashed pod.
pub struct EchoProcess {
    child: OwnedChild,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl EchoProcess {
    /// Starts `echo-backend 127.0.0.1:0 NAME` and reads back its address.
    pub fn start(name: &str) -> EchoProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_echo-backend"));
        cmd.args(["127.0.0.1:0", name]).stdout(Stdio::null());
        let (child, addr) = start_until(
            &mut cmd,
            "echo-backend",
            Stream::Stderr,
            "listening on ",
            Duration::from_secs(30),
            |_| {},
        );
        EchoProcess {
            child,
            addr: addr.parse().expect("addr"),
        }
    }

    /// SIGKILL: the process dies without closing anything gracefully.
    pub fn kill(&mut self) {
        self.child.kill();
    }
}

/// Asks the backend behind `ws` for its name.
pub async fn whoami(ws: &mut Ws) -> String {
    send_msg(ws, Message::text("whoami")).await;
    match next_data(ws).await {
        Message::Text(t) => t.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}
