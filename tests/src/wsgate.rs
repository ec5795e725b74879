//! Starts and controls the real `wsgate` binary.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use crate::binary::binary;
use crate::process::OwnedChild;
use crate::wait::SETTLE_TIMEOUT;

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
    child: OwnedChild,
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
    /// Writes `routes` to a file and starts `wsgate proxy` on it, on loopback port 0, and
    /// waits for it to report its addresses.
    pub async fn launch(routes: &str) -> Wsgate {
        Self::launch_with(routes, &[]).await
    }

    /// Like [`Wsgate::launch`] with extra arguments (`--config` or `--watch-interval` there
    /// replace the harness's own).
    pub async fn launch_with(routes: &str, extra: &[&str]) -> Wsgate {
        Self::launch_with_env(routes, extra, &[]).await
    }

    /// Like [`Wsgate::launch_with`] with environment variables for the process (e.g. its own
    /// `WSGATE_AFFINITY_KEY` instead of the one every harness-started wsgate shares).
    pub async fn launch_with_env(routes: &str, extra: &[&str], env: &[(&str, &str)]) -> Wsgate {
        let (mut w, addresses) = Self::spawn(routes, extra, env);
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while !w.read_addresses(&addresses, deadline) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        w
    }

    /// [`Wsgate::launch`] for synchronous callers: blocks the calling thread (not only the
    /// task) until wsgate reports its addresses, typically some tens of milliseconds.
    pub fn start(routes: &str) -> Wsgate {
        Self::start_with(routes, &[])
    }

    /// [`Wsgate::launch_with`] for synchronous callers; blocks like [`Wsgate::start`].
    pub fn start_with(routes: &str, extra: &[&str]) -> Wsgate {
        let (mut w, addresses) = Self::spawn(routes, extra, &[]);
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while !w.read_addresses(&addresses, deadline) {
            std::thread::sleep(Duration::from_millis(20));
        }
        w
    }

    /// Starts the process; returns it (addresses not known yet) and its addresses file.
    fn spawn(routes: &str, extra: &[&str], env: &[(&str, &str)]) -> (Wsgate, PathBuf) {
        let dir = Scratch::new("proxy");
        let config = dir.path("routes.yaml");
        std::fs::write(&config, routes).expect("write routes");
        let addresses = dir.path("addresses.json");
        let log = dir.path("wsgate.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(binary());
        cmd.arg("proxy");
        // A test may point `--config` elsewhere (e.g. a ConfigMap-style volume) in `extra`.
        if !extra.contains(&"--config") {
            cmd.arg("--config").arg(&config);
        }
        cmd.args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]);
        // Fast file polling unless the test chose (e.g. a long interval so only SIGHUP acts).
        if !extra.contains(&"--watch-interval") {
            cmd.args(["--watch-interval", "100ms"]);
        }
        cmd.arg("--addresses-file")
            .arg(&addresses)
            .args(extra)
            .env("WSGATE_LOG", "info,wsgate=debug")
            // Like the chart's Secret: every wsgate of a test keys affinity cookies alike.
            .env("WSGATE_AFFINITY_KEY", "wsgate-tests-shared-install-key")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log_file);
        let child = OwnedChild::spawn(&mut cmd, "wsgate proxy");
        let w = Wsgate {
            child,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            https: None,
            config,
            log,
            dir,
        };
        (w, addresses)
    }

    /// One look at the addresses file: true once read. Fails the test if wsgate exited or
    /// `deadline` passed.
    fn read_addresses(&mut self, addresses: &Path, deadline: Instant) -> bool {
        if let Ok(text) = std::fs::read_to_string(addresses)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        {
            let addr = |k: &str| v[k].as_str().and_then(|s| s.parse().ok());
            self.http = addr("http").expect("http addr");
            self.admin = addr("admin").expect("admin addr");
            self.https = addr("https");
            return true;
        }
        if let Some(status) = self.try_wait() {
            panic!("wsgate exited early with {status}: {}", self.log());
        }
        assert!(
            Instant::now() < deadline,
            "wsgate did not report its addresses within {SETTLE_TIMEOUT:?}: {}",
            self.log()
        );
        false
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
        self.child.id()
    }

    /// Sends a signal (`TERM`, `HUP`, ...) to the process.
    pub fn signal(&self, name: &str) {
        crate::process::signal(self.pid(), name);
    }

    /// Exit status if the process has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait()
    }

    /// Waits up to `limit` for the process to end, letting the runtime's other tasks (an
    /// in-process backend, say) run meanwhile.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.child.exited_within(limit).await
    }

    /// GET on the admin listener: (status, body).
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        crate::client::http_get(&format!("http://{}{}", self.admin, path), None)
            .await
            .unwrap_or_else(|e| panic!("admin request {path}: {e:#}\nwsgate log:\n{}", self.log()))
    }

    /// A request with `method` to the admin listener, answered within `limit`: (status,
    /// body, headers).
    pub async fn admin_request(
        &self,
        method: http::Method,
        path: &str,
        limit: Duration,
    ) -> (u16, String, http::HeaderMap) {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.admin.to_string())
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("request");
        crate::client::http_request_within(&self.admin.to_string(), req, limit)
            .await
            .unwrap_or_else(|e| panic!("admin request {path}: {e:#}\nwsgate log:\n{}", self.log()))
    }

    /// The value of a metric line that starts with `prefix` (name plus labels), or 0.
    pub async fn metric(&self, prefix: &str) -> f64 {
        let (_, body) = self.admin_get("/metrics").await;
        metric_value(&body, prefix)
    }

    /// Waits until a metric reaches at least `value`; returns the value read then (which may
    /// be larger: callers assert what they expect). Fails the test, with the log, when it
    /// never does.
    pub async fn wait_metric(&self, prefix: &str, value: f64) -> f64 {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let v = self.metric(prefix).await;
            if v >= value {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{prefix} stayed at {v}, never reached {value}: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the route table `version` is applied (`wsgate_route_table_version`).
    pub async fn wait_version(&self, version: f64) {
        self.wait_metric("wsgate_route_table_version", version)
            .await;
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
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

    /// Waits until the log contains `text`; returns the log.
    pub async fn wait_log(&self, text: &str) -> String {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log never showed {text:?}:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
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

/// A minimal routes file: one route, every host, path prefix `/`, to `backends`, with
/// `extra` YAML appended under `spec:` (indented by two spaces).
pub fn routes(name: &str, backends: &[SocketAddr], extra: &str) -> String {
    let addrs: Vec<String> = backends.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata:\n  name: {name}\nspec:\n  rules:\n    - path: {{type: PathPrefix, value: /}}\n      backend:\n        addresses: [{}]\n{extra}",
        addrs.join(", ")
    )
}
