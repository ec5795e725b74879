//! Split mode: `wsgate proxy --tables-from` fed by `wsgate controller --serve-tables` over
//! HTTP/2 with mutual TLS (certificates made here), the controller against the API stand-in.
//! The proxy serves the controller's routes, keeps its connections and keeps serving while
//! the controller is killed and restarted, and picks up a change made after the restart.
//! A client whose certificate comes from another CA is refused.

#[path = "controller_support/mod.rs"]
mod controller_support;
#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use controller_support::http::{ask, refused_status, ws};
use controller_support::objects::{NS, endpoint_slice, service};
use controller_support::{Controller, eventually};
use serde_json::{Value, json};
use support::certs::{Alg, Ca};
use wsgate_tests::backend::Backend;
use wsgate_tests::client::Ws;
use wsgate_tests::kube_standin::KubeApi;
use wsgate_tests::wsgate::{Scratch, Wsgate};

const SETTLE: Duration = Duration::from_secs(20);

/// The proxy's own settings: a ProxyConfig and no routes (they come from the controller).
const PROXY_CONFIG: &str = "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {name: split}\nspec: {shutdownTimeout: 2s}\n";

fn route(name: &str, host: &str, path: &str) -> Value {
    json!({
        "apiVersion": "wsgate.dev/v1alpha1", "kind": "WebSocketRoute",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"hostnames": [host], "rules": [{
            "path": {"type": "PathPrefix", "value": path},
            "backend": {"service": {"name": "echo", "port": 3000}}}]},
    })
}

/// The table server's certificate and CA, a proxy's client certificate from that CA, and
/// one from another CA, as files.
struct Pki {
    dir: Scratch,
}

impl Pki {
    fn new() -> Pki {
        let dir = Scratch::new("split-pki");
        let ca = Ca::root("wsgate tables CA");
        let rogue = Ca::root("another CA");
        let server = ca.leaf(&["localhost"], Alg::Ecdsa);
        let client = ca.leaf(&["wsgate-proxy"], Alg::Ecdsa);
        let stranger = rogue.leaf(&["wsgate-proxy"], Alg::Ecdsa);
        let files = [
            ("ca.crt", &ca.pem),
            ("server.crt", &server.chain_pem),
            ("server.key", &server.key_pem),
            ("client.crt", &client.chain_pem),
            ("client.key", &client.key_pem),
            ("stranger.crt", &stranger.chain_pem),
            ("stranger.key", &stranger.key_pem),
        ];
        for (name, pem) in files {
            std::fs::write(dir.path(name), pem).expect("write PKI file");
        }
        Pki { dir }
    }

    fn file(&self, name: &str) -> String {
        self.dir.path(name).display().to_string()
    }

    fn server_flags(&self, port: u16) -> Vec<String> {
        vec![
            "--serve-tables".into(),
            format!("127.0.0.1:{port}"),
            "--tables-tls-cert".into(),
            self.file("server.crt"),
            "--tables-tls-key".into(),
            self.file("server.key"),
            "--tables-client-ca".into(),
            self.file("ca.crt"),
        ]
    }

    /// Flags of a proxy presenting `who` (`client` or `stranger`).
    fn client_flags(&self, port: u16, who: &str) -> Vec<String> {
        vec![
            "--tables-from".into(),
            format!("https://localhost:{port}"),
            "--tables-tls-cert".into(),
            self.file(&format!("{who}.crt")),
            "--tables-tls-key".into(),
            self.file(&format!("{who}.key")),
            "--tables-ca".into(),
            self.file("ca.crt"),
        ]
    }
}

/// A loopback port free right now (the controller must come back on the same one).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

async fn start_controller(api: &KubeApi, pki: &Pki, port: u16) -> Controller {
    let flags = pki.server_flags(port);
    let c = Controller::start_with(&api.url(), "wsgate-a", &strs(&flags));
    let serving = eventually(SETTLE, || async {
        c.log().contains("serving route tables to proxies")
    })
    .await;
    assert!(serving, "the table server did not start: {}", c.log());
    c
}

async fn stream_up(proxy: &Wsgate, up: f64) -> bool {
    eventually(SETTLE, || async {
        proxy.metric("wsgate_tables_stream_up").await == up
    })
    .await
}

/// With the controller gone: the stream is down, `open` still echoes, a new WebSocket (which
/// is returned) is served, and the proxy stays ready.
async fn serves_while_away(proxy: &Wsgate, open: &mut Ws) -> Ws {
    assert!(
        stream_up(proxy, 0.0).await,
        "loss not noticed: {}",
        proxy.log()
    );
    assert_eq!(ask(open, "two").await.expect("echo while away"), "two");
    let mut during = ws(proxy.http, "chat.example.test", "/chat", &[])
        .await
        .expect("new connections are served while the controller is away");
    assert_eq!(ask(&mut during, "three").await.expect("echo"), "three");
    assert_eq!(proxy.admin_get("/readyz").await.0, 200, "still ready");
    during
}

/// A route created now (no such route before) is served by the proxy.
async fn takes_a_new_route(api: &KubeApi, proxy: &Wsgate) {
    let before = ws(proxy.http, "news.example.test", "/news", &[]).await;
    assert_eq!(refused_status(&before), Some(404), "no such route yet");
    api.create(route("news", "news.example.test", "/news"));
    let changed = eventually(SETTLE, || async {
        ws(proxy.http, "news.example.test", "/news", &[])
            .await
            .is_ok()
    })
    .await;
    assert!(
        changed,
        "route added after the restart not served: {}",
        proxy.log()
    );
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 240)]
async fn a_proxy_fed_over_the_stream_serves_through_a_controller_restart_and_takes_a_change() {
    let backend = Backend::start("echo").await;
    let api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", backend.addr.port()));
    api.create(route("chat", "chat.example.test", "/chat"));
    let pki = Pki::new();
    let port = free_port();
    let controller = start_controller(&api, &pki, port).await;
    let flags = pki.client_flags(port, "client");
    let proxy = Wsgate::launch_with(PROXY_CONFIG, &strs(&flags)).await;
    proxy.wait_ready().await;
    assert!(
        stream_up(&proxy, 1.0).await,
        "stream not up: {}",
        proxy.log()
    );
    // SIGHUP (a routes-file reload elsewhere) neither ends nor disturbs it.
    proxy.signal("HUP");
    proxy.wait_log("SIGHUP ignored").await;
    let mut open = ws(proxy.http, "chat.example.test", "/chat", &[])
        .await
        .expect("the controller's route is served by the proxy");
    assert_eq!(ask(&mut open, "one").await.expect("echo"), "one");

    // The controller goes away: the proxy notices, keeps its table and its connections.
    drop(controller);
    let mut during = serves_while_away(&proxy, &mut open).await;

    // Back on the same address: the proxy reconnects; then a change reaches it.
    let controller = start_controller(&api, &pki, port).await;
    assert!(
        stream_up(&proxy, 1.0).await,
        "no reconnect: {}",
        proxy.log()
    );
    takes_a_new_route(&api, &proxy).await;
    for (socket, text) in [(&mut open, "four"), (&mut during, "five")] {
        assert_eq!(ask(socket, text).await.expect("echo after restart"), text);
    }
    let refused = ws(proxy.http, "news.example.test", "/chat", &[]).await;
    assert_eq!(refused_status(&refused), Some(404), "hosts stay apart");
    assert!(
        proxy
            .metric("wsgate_tables_received_total{result=\"applied\"}")
            .await
            >= 2.0
    );
    drop(controller);
}

#[wsgate_tests::e2e(multi_thread, heavy, limit = 180)]
async fn a_client_certificate_from_another_ca_is_refused() {
    let api = KubeApi::start().await;
    api.create(service("echo"));
    api.create(endpoint_slice("echo", 9));
    api.create(route("chat", "chat.example.test", "/chat"));
    let pki = Pki::new();
    let port = free_port();
    let controller = start_controller(&api, &pki, port).await;
    let stranger = pki.client_flags(port, "stranger");
    let refused = Wsgate::launch_with(PROXY_CONFIG, &strs(&stranger)).await;
    let seen = eventually(SETTLE, || async {
        controller.log().contains("table client refused (TLS)")
    })
    .await;
    assert!(seen, "the stranger was not refused: {}", controller.log());
    refused
        .wait_log("route table stream lost; no table yet")
        .await;
    assert_eq!(
        refused.admin_get("/readyz").await.0,
        503,
        "no table, not ready"
    );
    assert_eq!(refused.metric("wsgate_tables_stream_up").await, 0.0);
    assert_eq!(
        refused.metric("wsgate_tables_received_total").await,
        0.0,
        "{}",
        refused.log()
    );

    // The same server serves a client from its CA.
    let client = pki.client_flags(port, "client");
    let served = Wsgate::launch_with(PROXY_CONFIG, &strs(&client)).await;
    served.wait_ready().await;
}

#[wsgate_tests::e2e(limit = 60)]
fn a_missing_client_certificate_stops_the_start_naming_the_flag() {
    let pki = Pki::new();
    let mut flags = pki.client_flags(free_port(), "client");
    let at = flags
        .iter()
        .position(|f| f == "--tables-tls-key")
        .expect("flag");
    flags[at + 1] = pki.file("absent.key");
    let out = wsgate_tests::process::output_within(
        std::process::Command::new(wsgate_tests::wsgate::binary())
            .arg("proxy")
            .args(&flags),
        "wsgate proxy",
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--tables-tls-key") && stderr.contains("absent.key"),
        "{stderr}"
    );
}
