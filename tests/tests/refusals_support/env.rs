//! The wsgate instances, backend and peers the refusal table runs against: one route per
//! policy, each on its own host name.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wsgate_tests::backend::Backend;
use wsgate_tests::wsgate::{Scratch, Wsgate};

use crate::support::certs::{Alg, Ca};
use crate::support::write_pair;

/// Where the external-auth route sends pages refused with 401.
pub const SIGNIN: &str = "https://login.test/start";

/// Everything the rows are sent to.
pub struct Env {
    /// wsgate with every route, a plaintext and a TLS listener.
    pub gw: Wsgate,
    /// Its TLS listener.
    pub https: SocketAddr,
    /// wsgate expecting a PROXY protocol header on every connection.
    pub pp: Wsgate,
    /// The one backend behind every route; it records all that reaches it.
    pub backend: Backend,
    /// The CA of the TLS routes' certificates.
    pub ca: String,
    /// The ticket routes' key file.
    pub key: String,
    /// A key file wsgate does not know.
    pub other_key: String,
    /// Scratch space (certificates, keys), removed at the end.
    _dir: Scratch,
}

fn route(name: &str, host: &str, backend: SocketAddr, spec: &str) -> String {
    format!(
        "---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata:\n  name: {name}\nspec:\n  hostnames: [\"{host}\"]\n{spec}  rules:\n    - backend:\n        addresses: [\"{backend}\"]\n"
    )
}

/// An external-auth service that denies everything with 401.
async fn deny_all() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let svc = service_fn(|_: Request<Incoming>| async {
                let mut r = Response::new(Full::new(Bytes::from_static(b"log in first\n")));
                *r.status_mut() = http::StatusCode::UNAUTHORIZED;
                Ok::<_, Infallible>(r)
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc),
            );
        }
    });
    addr
}

/// A FirstMessage ticket route's `auth` (1 s to send the ticket).
fn first_message(key: &str, extra: &str) -> String {
    format!(
        "  auth:\n    firstMessageTimeout: 1s\n    ticket:\n      keyFile: {key}\n      from: [FirstMessage]\n{extra}"
    )
}

/// A loopback port nothing listens on.
fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

impl Env {
    /// Starts the backend, the auth service and both wsgate instances.
    pub async fn start() -> Env {
        let dir = Scratch::new("refusals");
        let key =
            crate::security_support::write_key(dir.path("hs.key"), crate::security_support::HS_KEY);
        let other_key = crate::security_support::write_key(
            dir.path("other.key"),
            "another-key-wsgate-does-not-know",
        );
        let ca = Ca::root("wsgate refusals ca");
        let a = write_pair(&dir.path("a"), &ca.leaf(&["tls-a.test"], Alg::Ecdsa));
        let b = write_pair(&dir.path("b"), &ca.leaf(&["tls-b.test"], Alg::Ecdsa));
        let backend = Backend::start("app").await;
        let be = backend.addr;
        let auth = deny_all().await;
        let nowhere = closed_port();
        let cert = |d: &std::path::Path| {
            format!(
                "  tls: {{certFile: \"{}\", keyFile: \"{}\"}}\n",
                d.join("tls.crt").display(),
                d.join("tls.key").display()
            )
        };
        let ticket = |from: &str, extra: &str| {
            format!("  auth:\n    ticket:\n      keyFile: {key}\n      from: [{from}]\n{extra}")
        };
        let routes = [
            "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {name: proxy}\nspec:\n  limits: {maxRequestHeadBytes: 4096, maxRequestHeaders: 20, headerReadTimeout: 1s}\n".to_string(),
            route("open", "open.test", be, ""),
            route("tls-a", "tls-a.test", be, &cert(&a)),
            route("tls-b", "tls-b.test", be, &cert(&b)),
            route("src", "src.test", be, "  sourceRanges: {allow: [\"10.0.0.0/8\"]}\n"),
            route("rate", "rate.test", be, "  limits: {requestsPerMinutePerIP: 1, requestBurstMultiplier: 1}\n"),
            route("body", "body.test", be, "  limits: {maxRequestBodyBytes: 10}\n"),
            route("perip", "perip.test", be, "  limits: {maxConnectionsPerIP: 1}\n"),
            route("perroute", "perroute.test", be, "  limits: {maxConnections: 1}\n"),
            route("hsrate", "hsrate.test", be, "  limits: {handshakesPerSecondPerIP: 1, handshakeBurst: 1}\n"),
            route("origin", "origin.test", be, "  origins: {allow: [\"https://app.test\"]}\n"),
            route("tickets", "tickets.test", be, &ticket("Query", "      maxAge: 60s\n")),
            route("store", "store.test", be, &ticket("Query", &format!("      replayStore: redis://{nowhere}\n"))),
            route("fm", "fm.test", be, &first_message(&key, "      maxAge: 60s\n")),
            route("fmstore", "fmstore.test", be, &first_message(&key, &format!("      replayStore: redis://{nowhere}\n"))),
            route("ext", "ext.test", be, &format!("  auth:\n    external:\n      url: http://{auth}/verify\n      signinUrl: {SIGNIN}\n")),
            route("exterr", "exterr.test", be, &format!("  auth:\n    external:\n      url: http://{nowhere}/verify\n      timeout: 2s\n")),
            route("strict", "strict.test", be, ""),
        ]
        .concat();
        let gw = Wsgate::launch_with(&routes, &["--https-listen", "127.0.0.1:0"]).await;
        gw.wait_ready().await;
        let https = gw.https.expect("the TLS listener's address");
        let pp_routes = format!(
            "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: proxy}}\nspec:\n  listen: {{proxyProtocol: true}}\n{}",
            route("open", "open.test", be, "")
        );
        let pp = Wsgate::launch(&pp_routes).await;
        pp.wait_ready().await;
        Env {
            gw,
            https,
            pp,
            backend,
            ca: ca.pem.clone(),
            key,
            other_key,
            _dir: dir,
        }
    }
}
