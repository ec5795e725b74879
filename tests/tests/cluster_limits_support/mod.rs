//! The cluster the cluster-limit tests run: three wsgate replicas sharing one Redis behind
//! HAProxy in TCP mode (round robin, PROXY protocol v2), and handshakes through it.

use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Error as WsError;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{Ws, ws_connect};
use wsgate_tests::haproxy::Haproxy;
use wsgate_tests::redis::Redis;
use wsgate_tests::wait::{IO_TIMEOUT, until};
use wsgate_tests::wsgate::{Wsgate, routes};

/// wsgate's lease on shared counts (`proxy/src/shared/leases.rs`).
pub const LEASE: Duration = Duration::from_secs(10);
/// Hang guard for what the lease bounds: three leases.
pub const LEASE_WAIT: Duration = Duration::from_secs(30);
/// Pause between handshakes while waiting for a state to change.
pub const POLL: Duration = Duration::from_millis(100);

/// Three replicas sharing one Redis behind HAProxy.
pub struct Cluster {
    pub redis: Redis,
    backend: Backend,
    pub replicas: Vec<Wsgate>,
    lb: Haproxy,
}

/// The routes file of every replica: shared state in `redis`, one route `chat` to `backend`
/// with `limits` (YAML lines under `limits:`).
pub fn config(redis: &Redis, backend: &Backend, limits: &str) -> String {
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: edge}}\nspec:\n  listen: {{proxyProtocol: true}}\n  sharedState:\n    redis: {{url: \"{}\"}}\n---\n{}",
        redis.url(),
        routes("chat", &[backend.addr], &format!("  limits:\n{limits}"))
    )
}

/// What one handshake through the load balancer got.
pub enum Outcome {
    Admitted(Box<Ws>),
    Refused(u16, String),
    /// No replica answered (the balancer picked a dead one).
    Unreachable(String),
}

impl Cluster {
    /// Three replicas sharing `redis`, one route `chat` with `limits` (YAML lines under
    /// `limits:`), behind HAProxy.
    pub async fn start(limits: &str) -> Cluster {
        let redis = Redis::start();
        let backend = Backend::start("app").await;
        let yaml = config(&redis, &backend, limits);
        let mut replicas = Vec::new();
        for _ in 0..3 {
            replicas.push(Wsgate::launch(&yaml).await);
        }
        for r in &replicas {
            r.wait_ready().await;
        }
        let lb =
            Haproxy::tcp_round_robin(&replicas.iter().map(|r| r.http).collect::<Vec<_>>()).await;
        Cluster {
            redis,
            backend,
            replicas,
            lb,
        }
    }

    /// Gives every replica the route with `limits` instead (table version 2).
    pub async fn relimit(&self, limits: &str) {
        let yaml = config(&self.redis, &self.backend, limits);
        for r in &self.replicas {
            r.rewrite(&yaml);
        }
        for r in &self.replicas {
            r.wait_version(2.0).await;
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/chat", self.lb.addr)
    }

    /// One handshake through the balancer.
    pub async fn attempt(&self) -> Outcome {
        match ws_connect(&self.url()).await {
            Ok(ws) => Outcome::Admitted(Box::new(ws)),
            Err(WsError::Http(resp)) => {
                let body = resp.body().as_deref().unwrap_or_default();
                Outcome::Refused(
                    resp.status().as_u16(),
                    String::from_utf8_lossy(body).into_owned(),
                )
            }
            Err(e) => Outcome::Unreachable(e.to_string()),
        }
    }

    /// Opens `n` WebSockets through the balancer; each one must be admitted.
    pub async fn open(&self, n: usize) -> Vec<Ws> {
        let mut held = Vec::new();
        for i in 0..n {
            match self.attempt().await {
                Outcome::Admitted(ws) => held.push(*ws),
                Outcome::Refused(status, body) => {
                    panic!("connection {i} refused: {status} {body}\n{}", self.logs())
                }
                Outcome::Unreachable(e) => panic!("connection {i} failed: {e}"),
            }
        }
        held
    }

    /// Open WebSockets on each replica (`None` for a dead one), by its own metrics.
    pub async fn open_per_replica(&mut self) -> Vec<Option<f64>> {
        let mut out = Vec::new();
        for r in &mut self.replicas {
            if r.try_wait().is_some() {
                out.push(None);
            } else {
                out.push(Some(r.metric("wsgate_active_connections{").await));
            }
        }
        out
    }

    /// Waits until the live replicas count `n` open WebSockets in all; returns the counts.
    pub async fn wait_open(&mut self, n: f64) -> Vec<Option<f64>> {
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            let per = self.open_per_replica().await;
            if per.iter().flatten().sum::<f64>() == n || Instant::now() > deadline {
                return per;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Refusals for `reason` on replica `i`.
    pub async fn refusals(&self, i: usize, reason: &str) -> f64 {
        self.replicas[i]
            .metric(&format!(
                "wsgate_limit_refusals_total{{namespace=\"default\",reason=\"{reason}\""
            ))
            .await
    }

    /// Handshakes until every replica has refused one for `reason`; every handshake must be
    /// refused with 429 and `message`.
    pub async fn refused_on_every_replica(&self, reason: &str, message: &str) {
        let mut seen = 0;
        until(
            || format!("not every replica refused for {reason}\n{}", self.logs()),
            || {
                seen += 1;
                async move {
                    match self.attempt().await {
                        Outcome::Refused(429, body) => assert!(body.contains(message), "{body}"),
                        Outcome::Refused(status, body) => panic!("refused with {status}: {body}"),
                        Outcome::Admitted(_) => panic!("handshake {seen} over the limit admitted"),
                        Outcome::Unreachable(e) => panic!("handshake {seen} failed: {e}"),
                    }
                    for i in 0..3 {
                        if self.refusals(i, reason).await < 1.0 {
                            return false;
                        }
                    }
                    true
                }
            },
        )
        .await;
    }

    /// Handshakes until `n` are admitted (refusals and dead replicas meanwhile are expected:
    /// counts are still held); fails after [`LEASE_WAIT`].
    pub async fn admitted_once_released(&self, n: usize) -> Vec<Ws> {
        let deadline = Instant::now() + LEASE_WAIT;
        let mut fresh = Vec::new();
        while fresh.len() < n {
            assert!(
                Instant::now() < deadline,
                "{n} connections still count after {LEASE_WAIT:?} ({} admitted)\n{}",
                fresh.len(),
                self.logs()
            );
            match self.attempt().await {
                Outcome::Admitted(ws) => fresh.push(*ws),
                Outcome::Refused(429, _) | Outcome::Unreachable(_) => {
                    tokio::time::sleep(POLL).await;
                }
                Outcome::Refused(status, body) => panic!("refused with {status}: {body}"),
            }
        }
        fresh
    }

    pub fn logs(&self) -> String {
        self.replicas
            .iter()
            .map(Wsgate::log)
            .collect::<Vec<_>>()
            .join("\n---\n")
    }
}

/// This replica's and the others' counts of `127.0.0.1` on route `default/chat`, as Redis
/// holds them.
pub fn counted_in_redis(redis: &Redis) -> u64 {
    redis
        .cli(&["HVALS", "{wsgate:limits:default/chat}:ip:127.0.0.1"])
        .lines()
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .sum()
}
