//! The Grafana dashboard against a real Prometheus: Prometheus scrapes the real wsgate every
//! second while a little load runs through it (WebSockets over TLS with messages and
//! closes, held WebSockets, refused requests, a route with a dead endpoint), and every
//! panel's query, evaluated through the Prometheus HTTP API, returns a finite value. So no
//! panel of the shipped dashboard can silently show "No data".

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::Value;
use support::certs::{Alg, Ca};
use support::write_pair;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{drain, http_get, next_data, send_msg};
use wsgate_tests::e2e;
use wsgate_tests::prometheus::Prometheus;
use wsgate_tests::tls::{Versions, client_config, wss_connect};
use wsgate_tests::wsgate::{Scratch, Wsgate};

/// Limit for every panel to show data: several scrapes and rate windows on a loaded machine.
const DATA_LIMIT: Duration = Duration::from_secs(120);
/// What `$__rate_interval` becomes: four scrape intervals, as Grafana computes it.
const RATE_INTERVAL: &str = "4s";

fn routes(backend: std::net::SocketAddr, cert: &Path) -> String {
    let dead = "127.0.0.1:9"; // discard port: nothing listens there on loopback
    format!(
        "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: chat, namespace: team-a}}\nspec:\n  \
         hostnames: [chat.example.test]\n  \
         tls: {{certFile: \"{0}/tls.crt\", keyFile: \"{0}/tls.key\", redirectHttp: false}}\n  \
         rules:\n    - path: {{type: PathPrefix, value: /chat}}\n      backend: {{addresses: [\"{backend}\"]}}\n\
         ---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: flaky, namespace: team-b}}\nspec:\n  \
         loadBalancing: {{algorithm: RoundRobin}}\n  \
         rules:\n    - path: {{type: PathPrefix, value: /flaky}}\n      backend: {{addresses: [\"{dead}\", \"{backend}\"]}}\n",
        cert.display()
    )
}

/// The dashboard's panel queries: (panel title, expression with the template variables
/// replaced by "all": `.*`).
fn panel_queries() -> Vec<(String, String)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/wsgate/dashboards/wsgate.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard JSON");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("expr");
            let expr = expr
                .replace("$__rate_interval", RATE_INTERVAL)
                .replace("$namespace", ".*")
                .replace("$route", ".*")
                .replace("$job", ".*");
            assert!(!expr.contains('$'), "a template variable is left in {expr}");
            queries.push((panel["title"].as_str().unwrap_or("").to_string(), expr));
        }
    }
    assert!(
        queries.len() >= 20,
        "the dashboard has its panels: {queries:?}"
    );
    queries
}

/// One round of load: a wss:// WebSocket with a message each way and a close with 4000, a
/// request no route matches, and a request to the route with a dead endpoint.
async fn round(gw: &Wsgate, https: std::net::SocketAddr, tls: &Arc<rustls::ClientConfig>) {
    let mut ws = wss_connect(https, "chat.example.test", "/chat", tls.clone())
        .await
        .expect("wss through wsgate");
    send_msg(&mut ws, Message::text("tick")).await;
    assert_eq!(next_data(&mut ws).await, Message::text("tick"));
    let close = CloseFrame {
        code: CloseCode::from(4000),
        reason: "bye".into(),
    };
    let _ = ws.send(Message::Close(Some(close))).await;
    drain(&mut ws).await;
    let (status, _) = http_get(&gw.http_url("/nothing-here"), Some("unknown.example.test"))
        .await
        .expect("request");
    assert_eq!(status, 404);
    let (status, _) = http_get(&gw.http_url("/flaky"), None)
        .await
        .expect("request");
    assert_eq!(status, 200, "the live endpoint answers after a retry");
}

/// Evaluates every query until each has returned a finite value; returns those that had not
/// when [`DATA_LIMIT`] passed.
async fn panels_without_data<'a>(
    prometheus: &Prometheus,
    queries: &'a [(String, String)],
) -> Vec<&'a (String, String)> {
    let deadline = Instant::now() + DATA_LIMIT;
    let mut missing: Vec<&(String, String)> = queries.iter().collect();
    while !missing.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for q in missing {
            if finite(&prometheus.query(&q.1).await).is_none() {
                still.push(q);
            }
        }
        missing = still;
        if !missing.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    missing
}

/// The first finite value of an instant-query result, if any.
fn finite(result: &[Value]) -> Option<f64> {
    result
        .iter()
        .filter_map(|s| s["value"][1].as_str()?.parse::<f64>().ok())
        .find(|v| v.is_finite())
}

#[e2e(multi_thread, heavy, limit = 300)]
async fn every_dashboard_panel_shows_data_from_a_real_prometheus() {
    let queries = panel_queries();
    let dir = Scratch::new("dashboard");
    let backend = Backend::start("dash-backend").await;
    let ca = Ca::root("wsgate dashboard ca");
    let cert = write_pair(
        &dir.path("chat"),
        &ca.leaf(&["chat.example.test"], Alg::Ecdsa),
    );
    let (gw, https) = support::start_tls(&routes(backend.addr, &cert)).await;
    let tls = client_config(&ca.pem, Versions::Both);
    // Two WebSockets held open for the whole test.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(
            wss_connect(https, "chat.example.test", "/chat", tls.clone())
                .await
                .expect("wss"),
        );
    }
    let prometheus = Prometheus::start(&[gw.admin], "{pod: wsgate-0}");

    // Load keeps running while the panels are evaluated, so every rate has increases in its
    // window; each round waits for its own answers, so the load stays small.
    let gw = Arc::new(gw);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (gw, stop, tls) = (gw.clone(), stop.clone(), tls.clone());
        tokio::spawn(async move {
            let mut rounds = 0u32;
            while !stop.load(Ordering::Relaxed) {
                round(&gw, https, &tls).await;
                rounds += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            rounds
        })
    };

    let missing = panels_without_data(&prometheus, &queries).await;
    let health = prometheus.target_health().await;
    stop.store(true, Ordering::Relaxed);
    let rounds = tokio::time::timeout(Duration::from_secs(30), load)
        .await
        .expect("the load stops")
        .expect("the load ran without failing");
    assert!(
        missing.is_empty(),
        "panels without data after {DATA_LIMIT:?} ({rounds} rounds of load, targets {health:?}):\n{}",
        missing
            .iter()
            .map(|(t, e)| format!("  {t}: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The template variables list what the load used.
    let namespaces = prometheus
        .label_values("wsgate_handshakes_total", "namespace")
        .await;
    assert!(namespaces.contains(&"team-a".to_string()), "{namespaces:?}");
    let jobs = prometheus.label_values("wsgate_build_info", "job").await;
    assert_eq!(jobs, ["wsgate"]);
    // Held WebSockets are counted per route and pod as the panel groups them.
    let open = prometheus
        .query("sum by (namespace, route, pod) (wsgate_active_connections{route=\"chat\"})")
        .await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["metric"]["pod"], "wsgate-0");
    drop(held);
}
