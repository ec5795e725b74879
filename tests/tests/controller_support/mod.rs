//! For the controller tests: the real `wsgate controller` process pointed at the API
//! stand-in, and the Kubernetes objects the scenario creates.

#![allow(dead_code)]

pub mod http;
pub mod objects;
pub mod rbac;

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::process::OwnedChild;
use wsgate_tests::wsgate::{Scratch, binary};

/// Leader-election flags short enough for a test: lease 6s, step down after 2s without
/// renewal, retry every 500ms.
pub const FAST_LEASE: &[&str] = &[
    "--leader-lease-duration",
    "6s",
    "--leader-renew-deadline",
    "2s",
    "--leader-retry-period",
    "500ms",
];

/// A running `wsgate controller`: killed when dropped, and by the test's hard limit when the
/// test hangs.
pub struct Controller {
    child: OwnedChild,
    /// Plaintext listener.
    pub http: SocketAddr,
    /// TLS listener.
    pub https: SocketAddr,
    /// Admin listener.
    pub admin: SocketAddr,
    /// Admission webhook listener (with `--webhook-listen`).
    pub webhook: Option<SocketAddr>,
    log: PathBuf,
    _dir: Scratch,
}

impl Controller {
    /// Starts the controller against `api` with every listener on loopback port 0.
    pub fn start(api: &KubeApi) -> Controller {
        Controller::start_with(&api.url(), "wsgate-test-0", &[])
    }

    /// Starts replica `identity` against the stand-in at `url` with `extra` flags.
    pub fn start_with(url: &str, identity: &str, extra: &[&str]) -> Controller {
        let dir = Scratch::new("controller");
        let kubeconfig = dir.path("kubeconfig");
        wsgate_tests::kube_standin::kubeconfig::write(&kubeconfig, url).expect("kubeconfig");
        let addresses = dir.path("addresses.json");
        let log = dir.path("wsgate.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(binary());
        command
            .args(["controller", "--leader-election-namespace", "wsgate"])
            .args([
                "--http-listen",
                "127.0.0.1:0",
                "--https-listen",
                "127.0.0.1:0",
            ])
            .args(["--admin-listen", "127.0.0.1:0", "--shutdown-timeout", "2s"])
            .arg("--addresses-file")
            .arg(&addresses)
            .args(extra)
            .env("KUBECONFIG", &kubeconfig)
            .env("POD_NAME", identity)
            .env("WSGATE_LOG", "info,wsgate=debug,kube=info")
            .stdout(Stdio::null())
            .stderr(log_file);
        let child = OwnedChild::spawn(&mut command, "wsgate controller");
        let mut c = Controller {
            child,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            https: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook: None,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&addresses)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                let addr = |k: &str| v[k].as_str().and_then(|s| s.parse().ok()).expect(k);
                (c.http, c.https, c.admin) = (addr("http"), addr("https"), addr("admin"));
                c.webhook = v["webhook"].as_str().and_then(|s| s.parse().ok());
                return c;
            }
            if let Some(status) = c.child.try_wait() {
                panic!("wsgate controller exited with {status}: {}", c.log());
            }
            assert!(
                Instant::now() < deadline,
                "controller did not start: {}",
                c.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// The process id (for reading its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB, from `/proc/<pid>/status`.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The value of an unlabelled metric on `/metrics`, if present.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let url = format!("http://{}/metrics", self.admin);
        let (_, body) = wsgate_tests::client::http_get(&url, None).await.ok()?;
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Status code of `/readyz`.
    pub async fn readyz(&self) -> u16 {
        let url = format!("http://{}/readyz", self.admin);
        wsgate_tests::client::http_get(&url, None)
            .await
            .map(|(code, _)| code)
            .unwrap_or(0)
    }

    /// GET through the plaintext listener with a Host header: (status, body).
    pub async fn get(&self, host: &str, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.http);
        wsgate_tests::client::http_get(&url, Some(host))
            .await
            .unwrap_or((0, String::new()))
    }
}

#[allow(unused_imports)]
pub use wsgate_tests::wait::eventually;
