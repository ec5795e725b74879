//! Socket.IO clients (`tests/node/sio-rebalance-client.js`) that stay connected and
//! reconnect by themselves; the test reads their latest status line.

use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wsgate_tests::node::{node_dir, require_node_modules};
use wsgate_tests::process::{OwnedChild, Stream, start_until};

/// The running clients; stopped (stdin closed, then killed) on drop.
pub struct SioClients {
    _child: OwnedChild,
    _stdin: Option<ChildStdin>,
    latest: Arc<Mutex<Value>>,
}

impl SioClients {
    /// Starts `n` clients of `url` and waits until every session is upgraded to WebSocket.
    pub fn start(url: &str, n: usize) -> SioClients {
        require_node_modules();
        let latest = Arc::new(Mutex::new(Value::Null));
        let store = latest.clone();
        let mut cmd = Command::new("node");
        cmd.arg(node_dir().join("sio-rebalance-client.js"))
            .args([url, &n.to_string()])
            .current_dir(node_dir())
            .stdin(Stdio::piped())
            .stderr(Stdio::inherit());
        let (mut child, first) = start_until(
            &mut cmd,
            "node sio-rebalance-client.js",
            Stream::Stdout,
            "ready ",
            Duration::from_secs(60),
            move |line| {
                if let Ok(v) = serde_json::from_str::<Value>(line) {
                    *store.lock().unwrap_or_else(|p| p.into_inner()) = v;
                }
            },
        );
        *latest.lock().unwrap_or_else(|p| p.into_inner()) =
            serde_json::from_str(&first).expect("ready status");
        let stdin = child.inner().stdin.take();
        SioClients {
            _child: child,
            _stdin: stdin,
            latest,
        }
    }

    /// The latest status: `{on: {server: sessions}, upgraded, closes: [...], errors: [...]}`.
    pub fn status(&self) -> Value {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Sessions per server in a status.
pub fn sessions_on(status: &Value) -> Vec<u64> {
    status["on"]
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}
