//! Real Node peers from `tests/node` (Socket.IO servers and clients).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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

/// A running Node Socket.IO server.
pub struct SocketIoServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl SocketIoServer {
    /// Starts `sio-server.js` on a free port under `name`.
    pub fn start(name: &str) -> SocketIoServer {
        require_node_modules();
        let mut child = Command::new("node")
            .arg(node_dir().join("sio-server.js"))
            .args(["0", name])
            .current_dir(node_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node sio-server.js");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = lines.next().expect("sio-server output").expect("read");
            if let Some(p) = line.strip_prefix("listening ") {
                break p.trim().parse().expect("port");
            }
        };
        // Keep draining its output so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        SocketIoServer { child, port }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for SocketIoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// Runs `sio-client.js URL N [CA]` to completion.
pub fn run_clients(url: &str, n: usize, ca: Option<&std::path::Path>) -> ClientRun {
    require_node_modules();
    let mut cmd = Command::new("node");
    cmd.arg(node_dir().join("sio-client.js"))
        .arg(url)
        .arg(n.to_string());
    if let Some(ca) = ca {
        cmd.arg(ca);
    }
    let out = cmd
        .current_dir(node_dir())
        .output()
        .expect("run sio-client.js");
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
