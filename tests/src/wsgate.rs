//! Starts and controls the real `wsgate` binary.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Path of the `wsgate` binary: `WSGATE_BIN`, else the workspace's target directory.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("WSGATE_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug/wsgate");
    assert!(
        path.exists(),
        "{} not found: run `cargo build -p wsgate` first (or set WSGATE_BIN)",
        path.display()
    );
    path
}

/// A fresh scratch directory under the system temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Creates a new directory.
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wsgate-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `wsgate proxy`.
pub struct Wsgate {
    child: Option<Child>,
    /// Plaintext listener.
    pub http: SocketAddr,
    /// Admin listener.
    pub admin: SocketAddr,
    /// TLS listener, when started with `--https-listen`.
    pub https: Option<SocketAddr>,
    /// The routes file it watches.
    pub config: PathBuf,
    log: PathBuf,
    /// Scratch directory (config, log, addresses).
    pub dir: Scratch,
}

impl Wsgate {
    /// Writes `routes` to a file and starts `wsgate proxy` on it, on loopback port 0.
    pub fn start(routes: &str) -> Wsgate {
        Self::start_with(routes, &[])
    }

    /// Like [`Wsgate::start`] with extra arguments.
    pub fn start_with(routes: &str, extra: &[&str]) -> Wsgate {
        let dir = Scratch::new("proxy");
        let config = dir.path("routes.yaml");
        std::fs::write(&config, routes).expect("write routes");
        let addresses = dir.path("addresses.json");
        let log = dir.path("wsgate.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        // A test may point `--config` elsewhere (e.g. a ConfigMap-style volume) in `extra`.
        let own_config: &[&std::ffi::OsStr] = if extra.contains(&"--config") {
            &[]
        } else {
            &["--config".as_ref(), config.as_os_str()]
        };
        let child = Command::new(binary())
            .arg("proxy")
            .args(own_config)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--watch-interval",
                "100ms",
            ])
            .arg("--addresses-file")
            .arg(&addresses)
            .args(extra)
            .env("WSGATE_LOG", "info,wsgate=debug")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn wsgate");
        let mut w = Wsgate {
            child: Some(child),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            https: None,
            config,
            log,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&addresses)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                w.http = v["http"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .expect("http addr");
                w.admin = v["admin"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .expect("admin addr");
                w.https = v["https"].as_str().and_then(|s| s.parse().ok());
                break;
            }
            if let Some(status) = w.try_wait() {
                panic!("wsgate exited early with {status}: {}", w.log());
            }
            assert!(
                Instant::now() < deadline,
                "wsgate did not start: {}",
                w.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        w
    }

    /// `ws://` URL for a path.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.http, path)
    }

    /// `http://` URL for a path.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    /// Replaces the routes file (atomically, by rename, as editors and Kubernetes do).
    pub fn rewrite(&self, routes: &str) {
        let tmp = self.dir.path("routes.yaml.tmp");
        std::fs::write(&tmp, routes).expect("write routes");
        std::fs::rename(&tmp, &self.config).expect("rename routes");
    }

    /// The log so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends a signal (`TERM`, `HUP`, ...) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Exit status if the process has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `limit` for the process to end.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// GET on the admin listener: (status, body).
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        crate::client::http_get(&format!("http://{}{}", self.admin, path), None)
            .await
            .expect("admin request")
    }

    /// The value of a metric line that starts with `prefix` (name plus labels), or 0.
    pub async fn metric(&self, prefix: &str) -> f64 {
        let (_, body) = self.admin_get("/metrics").await;
        metric_value(&body, prefix)
    }

    /// Waits up to 10 s for a metric to reach `value`; returns the last value read.
    pub async fn wait_metric(&self, prefix: &str, value: f64) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.metric(prefix).await;
            if v >= value || Instant::now() > deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.admin_get("/readyz").await.0 == 200 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wsgate never became ready: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Sums the values of metric lines starting with `prefix`.
pub fn metric_value(body: &str, prefix: &str) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

impl Drop for Wsgate {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A minimal routes file: one route, every host, path prefix `/`, to `backends`, with
/// `extra` YAML appended under `spec:` (indented by two spaces).
pub fn routes(name: &str, backends: &[SocketAddr], extra: &str) -> String {
    let addrs: Vec<String> = backends.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata:\n  name: {name}\nspec:\n  rules:\n    - path: {{type: PathPrefix, value: /}}\n      backend:\n        addresses: [{}]\n{extra}",
        addrs.join(", ")
    )
}
