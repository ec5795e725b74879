//! Peers for the balancing tests: Socket.IO servers whose "Session ID unknown" refusals are
//! counted, the affinity client, echo-backend processes that can be killed, and a few
//! WebSocket helpers.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::client::Ws;
use wsgate_tests::node::{node_dir, require_node_modules};

/// A Node Socket.IO server (`sio-server.js`) that counts the sessions it did not know.
pub struct SioServer {
    child: Child,
    /// Its address on 127.0.0.1.
    pub addr: SocketAddr,
    unknown: Arc<AtomicUsize>,
}

impl SioServer {
    /// Starts a server named `name` on a free port.
    pub fn start(name: &str) -> SioServer {
        require_node_modules();
        let mut child = Command::new("node")
            .arg(node_dir().join("sio-server.js"))
            .args(["0", name])
            .current_dir(node_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node sio-server.js");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let port: u16 = loop {
            let line = lines.next().expect("sio-server output").expect("read");
            if let Some(p) = line.strip_prefix("listening ") {
                break p.trim().parse().expect("port");
            }
        };
        let unknown = Arc::new(AtomicUsize::new(0));
        let counter = unknown.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("Session ID unknown") {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        SioServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            unknown,
        }
    }

    /// Requests this server refused with "Session ID unknown" so far.
    pub fn unknown_sessions(&self) -> usize {
        self.unknown.load(Ordering::Relaxed)
    }
}

impl Drop for SioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run sio-affinity-client.js");
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
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl EchoProcess {
    /// Starts `echo-backend 127.0.0.1:0 NAME` and reads back its address.
    pub fn start(name: &str) -> EchoProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_echo-backend"))
            .args(["127.0.0.1:0", name])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start echo-backend");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = loop {
            let line = lines.next().expect("echo-backend output").expect("read");
            if let Some((_, a)) = line.split_once("listening on ") {
                break a.trim().parse().expect("addr");
            }
        };
        std::thread::spawn(move || for _ in lines.by_ref() {});
        EchoProcess { child, addr }
    }

    /// SIGKILL: the process dies without closing anything gracefully.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EchoProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asks the backend behind `ws` for its name.
pub async fn whoami(ws: &mut Ws) -> String {
    ws.send(Message::text("whoami")).await.expect("send whoami");
    loop {
        match ws.next().await.expect("reply").expect("ok") {
            Message::Text(t) => return t.to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}
