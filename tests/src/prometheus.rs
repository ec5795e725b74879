//! A real Prometheus server (Debian's `prometheus`) on loopback, scraping targets the test
//! names, and queried over its HTTP API like Grafana queries it.
//!
//! ```text
//!   test ──/api/v1/query──> prometheus ──scrape /metrics every second──> wsgate (admin)
//! ```

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::client::http_get;
use crate::process::{OwnedChild, Stream, try_start_until};
use crate::wsgate::Scratch;

/// Time Prometheus may take to load its configuration and open its port.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A running Prometheus, stopped on drop.
pub struct Prometheus {
    /// Its web and API address.
    pub addr: SocketAddr,
    _child: OwnedChild,
    _dir: Scratch,
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every second at `/metrics`, with `labels` (YAML
    /// flow map, e.g. `{pod: wsgate-0}`) on every target, keeping the labels of the scraped
    /// series as the chart's ServiceMonitor does (`honor_labels`).
    pub fn start(targets: &[SocketAddr], labels: &str) -> Prometheus {
        let dir = Scratch::new("prometheus");
        let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             scrape_configs:\n  - job_name: wsgate\n    honor_labels: true\n    scrape_timeout: 1s\n    \
             static_configs:\n      - targets: [{}]\n        labels: {labels}\n",
            targets.join(", ")
        );
        let file = dir.path("prometheus.yml");
        std::fs::write(&file, config).expect("write prometheus.yml");
        // Prometheus cannot report a port 0 it was given: a free port is picked and, should
        // another process take it first, another one.
        let mut failures = Vec::new();
        for _ in 0..5 {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = probe.local_addr().expect("addr");
            drop(probe);
            let mut cmd = Command::new("prometheus");
            cmd.arg(format!("--config.file={}", file.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path("data").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--log.level=info");
            match try_start_until(
                &mut cmd,
                "prometheus (bash scripts/install-test-deps.sh)",
                Stream::Stderr,
                "Server is ready to receive web requests.",
                START_LIMIT,
                |_| {},
            ) {
                Ok((child, _)) => {
                    return Prometheus {
                        addr,
                        _child: child,
                        _dir: dir,
                    };
                }
                Err(e) if e.contains("address already in use") => failures.push(e),
                Err(e) => panic!("{e}"),
            }
        }
        panic!("prometheus found no free port: {failures:?}");
    }

    /// Evaluates `expr` now (`/api/v1/query`); returns the `data.result` array. Fails the
    /// test when Prometheus answers with an error (a query that does not parse, say).
    pub async fn query(&self, expr: &str) -> Vec<Value> {
        let v = self.get("/api/v1/query", &[("query", expr)]).await;
        v["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no result array for {expr}: {v}"))
    }

    /// The values of label `label` on the series matching `selector` (what Grafana's
    /// `label_values(selector, label)` lists).
    pub async fn label_values(&self, selector: &str, label: &str) -> Vec<String> {
        let path = format!("/api/v1/label/{label}/values");
        let v = self.get(&path, &[("match[]", selector)]).await;
        v["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Health of the scrape targets (`/api/v1/targets`): `up`, `down` or `unknown` each.
    pub async fn target_health(&self) -> Vec<String> {
        let v = self.get("/api/v1/targets", &[]).await;
        v["data"]["activeTargets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["health"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let url = format!("http://{}{path}?{}", self.addr, query.join("&"));
        let (status, body) = http_get(&url, None)
            .await
            .unwrap_or_else(|e| panic!("prometheus {path}: {e:#}"));
        let v: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("prometheus {path}: {e}: {body}"));
        assert_eq!(status, 200, "prometheus {path} {params:?}: {body}");
        v
    }
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
