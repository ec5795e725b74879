//! Three wsgate replicas behind an L4 load balancer (HAProxy in TCP mode, round robin per
//! connection, PROXY protocol v2) with one Redis behave as one: real socket.io-client
//! sessions without cookies or keep-alive, whose every request may reach another replica,
//! stay on their Socket.IO server through polling and the upgrade. And with Redis restarted
//! mid-run nothing hangs and new sessions work once it is back.

use std::time::Duration;

use wsgate_tests::e2e;
use wsgate_tests::haproxy::Haproxy;
use wsgate_tests::node::{SocketIoServer, node_dir, require_node_modules};
use wsgate_tests::process::output_within;
use wsgate_tests::redis::Redis;
use wsgate_tests::wait::until;
use wsgate_tests::wsgate::{Wsgate, routes};

/// Sessions per run (each makes several requests, spread over the replicas).
const SESSIONS: usize = 200;
/// Limit of one client run: every client gives up after 20 s by itself.
const CLIENTS_TIMEOUT: Duration = Duration::from_secs(120);

struct Cluster {
    redis: Redis,
    servers: Vec<SocketIoServer>,
    replicas: Vec<Wsgate>,
    lb: Haproxy,
}

impl Cluster {
    async fn start() -> Cluster {
        let redis = Redis::start();
        let servers: Vec<SocketIoServer> = ["sio-a", "sio-b", "sio-c"]
            .into_iter()
            .map(SocketIoServer::start)
            .collect();
        let addrs: Vec<_> = servers.iter().map(SocketIoServer::addr).collect();
        let yaml = format!(
            "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: edge}}\nspec:\n  listen: {{proxyProtocol: true}}\n  sharedState:\n    redis: {{url: \"{}\"}}\n---\n{}",
            redis.url(),
            routes("chat", &addrs, "  sessionAffinity: {type: SocketIO}\n")
        );
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
            servers,
            replicas,
            lb,
        }
    }

    fn unknown_sessions(&self) -> usize {
        self.servers
            .iter()
            .map(SocketIoServer::unknown_sessions)
            .sum()
    }

    /// Requests every replica served (so a run that never crossed replicas cannot pass).
    async fn requests_per_replica(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for r in &self.replicas {
            out.push(r.metric("wsgate_http_requests_total{").await);
        }
        out
    }

    fn logs(&self) -> String {
        self.replicas
            .iter()
            .map(Wsgate::log)
            .collect::<Vec<_>>()
            .join("\n---\n")
    }
}

/// Runs `sio-replicas-client.js` with `n` sessions; returns its JSON summary.
async fn run_sessions(url: String, n: usize) -> serde_json::Value {
    require_node_modules();
    tokio::task::spawn_blocking(move || {
        let out = output_within(
            std::process::Command::new("node")
                .arg(node_dir().join("sio-replicas-client.js"))
                .args([url.as_str(), &n.to_string(), "--concurrency=20"])
                .current_dir(node_dir()),
            "sio-replicas-client.js",
            CLIENTS_TIMEOUT,
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .unwrap_or_else(|| {
                panic!(
                    "no summary: {stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    })
    .await
    .expect("client run")
}

/// No request of any session reached a server that did not know the session, and every
/// session polled, upgraded and echoed on its server.
fn assert_sessions(summary: &serde_json::Value, n: usize, unknown: usize, logs: &str) {
    assert_eq!(summary["total"].as_u64(), Some(n as u64), "{summary}");
    assert_eq!(
        unknown, 0,
        "servers answered \"Session ID unknown\": {summary}"
    );
    assert_eq!(summary["unknownSession"].as_u64(), Some(0), "{summary}");
    assert_eq!(
        summary["ok"].as_u64(),
        Some(n as u64),
        "sessions polled, upgraded and echoed on their server: {summary}\n{logs}"
    );
}

#[e2e(multi_thread, heavy, limit = 300)]
async fn socketio_sessions_stay_on_their_server_across_three_replicas() {
    let c = Cluster::start().await;
    let url = format!("http://{}", c.lb.addr);
    let summary = run_sessions(url, SESSIONS).await;
    assert_sessions(&summary, SESSIONS, c.unknown_sessions(), &c.logs());
    let per_replica = c.requests_per_replica().await;
    assert!(
        per_replica.iter().all(|n| *n >= SESSIONS as f64 / 2.0),
        "every replica served sessions' requests: {per_replica:?}"
    );
    let per_server = summary["perBackend"].as_object().map(|m| m.len());
    assert_eq!(
        per_server,
        Some(3),
        "sessions spread over the servers: {summary}"
    );
    for r in &c.replicas {
        let found = r
            .metric("wsgate_shared_state_session_lookups_total{result=\"found\"}")
            .await;
        assert!(found > 0.0, "each replica followed sessions others learned");
    }
}

#[e2e(multi_thread, heavy, limit = 300)]
async fn a_redis_restart_mid_run_hangs_nothing_and_new_sessions_work_after_it() {
    let mut c = Cluster::start().await;
    let url = format!("http://{}", c.lb.addr);
    let during = tokio::spawn(run_sessions(url.clone(), SESSIONS));
    // Restart Redis while sessions are being set up (it comes back empty).
    c.redis.stop();
    let replicas = &c.replicas;
    until(
        || "no replica noticed Redis was gone".to_string(),
        || async move {
            for r in replicas {
                if r.metric("wsgate_shared_state_errors_total").await >= 1.0 {
                    return true;
                }
            }
            false
        },
    )
    .await;
    c.redis.restart();
    // Bounded: the run ends (each client has its own 20 s limit) whatever Redis did.
    let summary = during.await.expect("the run during the restart ended");
    assert_eq!(
        summary["total"].as_u64(),
        Some(SESSIONS as u64),
        "{summary}"
    );

    let before = c.unknown_sessions();
    let after = run_sessions(url, SESSIONS / 2).await;
    assert_sessions(
        &after,
        SESSIONS / 2,
        c.unknown_sessions() - before,
        &c.logs(),
    );
}
