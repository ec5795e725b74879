//! TLS behaviour over time and at the edges: certificate rotation (Kubernetes-style symlink
//! swap), broken renewals, protocol and cipher policy checked with `openssl s_client`,
//! session resumption, and TLS from wsgate to a `wss` backend.

#[path = "support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::certs::{Alg, Ca, Leaf};
use support::{start_tls, tls_route, write_pair};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Backend;
use wsgate_tests::client::{IO_TIMEOUT, close_ws, next_msg, send_msg};
use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::tls::{Versions, client_config, peer_leaf, pem_to_der, tls_connect, wss_connect};
use wsgate_tests::wait::within;
use wsgate_tests::wsgate::Scratch;

/// Publishes `leaf` as `dir/..data/tls.*` the way the kubelet updates a Secret volume: a new
/// timestamped directory, then an atomic rename of the `..data` symlink.
fn publish_secret(dir: &Path, version: &str, leaf: &Leaf) {
    let target = dir.join(format!("..{version}"));
    write_pair(&target, leaf);
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    symlink(format!("..{version}"), &tmp).expect("symlink");
    std::fs::rename(&tmp, dir.join("..data")).expect("swap ..data");
    for name in ["tls.crt", "tls.key"] {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), &link).expect("symlink file");
        }
    }
}

#[e2e]
async fn a_rotated_certificate_reaches_new_connections_and_old_ones_keep_echoing() {
    let ca = Ca::root("wsgate rotation ca");
    let first = ca.leaf(&["rot.example.test"], Alg::Ecdsa);
    let second = ca.leaf(&["rot.example.test"], Alg::Ed25519);
    let dir = Scratch::new("tls-rotate");
    let secret = dir.path("secret");
    std::fs::create_dir_all(&secret).expect("dir");
    publish_secret(&secret, "v1", &first);
    let backend = Backend::start("rot").await;
    let routes = tls_route(
        "rot",
        &["rot.example.test"],
        backend.addr,
        Some(&secret),
        "",
        "",
    );
    let (gw, https) = start_tls(&routes).await;
    let config = client_config(&ca.pem, Versions::Both);
    // Each probe is a new client: a client that kept a session ticket would resume it and be
    // shown the certificate of that session, not the one new clients get.
    let served = || {
        let config = client_config(&ca.pem, Versions::Both);
        async move {
            let tls = tls_connect(https, "rot.example.test", config)
                .await
                .expect("TLS handshake");
            peer_leaf(&tls)
        }
    };
    assert_eq!(served().await, pem_to_der(&first.cert_pem));
    let mut old = wss_connect(https, "rot.example.test", "/", config.clone())
        .await
        .expect("wss");

    publish_secret(&secret, "v2", &second);
    gw.wait_version(2.0).await;
    assert_eq!(
        served().await,
        pem_to_der(&second.cert_pem),
        "the renewed certificate is served once the new table is in: {}",
        gw.log()
    );
    send_msg(&mut old, Message::text("still here")).await;
    assert_eq!(next_msg(&mut old).await, Message::text("still here"));

    // A broken renewal (key of another certificate) is rejected; the good one stays.
    let stranger = ca.leaf(&["rot.example.test"], Alg::Ecdsa);
    let broken = Leaf {
        key_pem: stranger.key_pem,
        ..second.clone()
    };
    publish_secret(&secret, "v3", &broken);
    gw.wait_metric("wsgate_route_table_reloads_total{result=\"rejected\"}", 1.0)
        .await;
    assert!(
        gw.log()
            .contains("spec.tls.keyFile: the private key does not match"),
        "the log names route and field: {}",
        gw.log()
    );
    assert_eq!(
        served().await,
        pem_to_der(&second.cert_pem),
        "previous certificate in force"
    );
    assert_eq!(gw.metric("wsgate_route_table_version").await, 2.0);
    let mut fresh = wss_connect(https, "rot.example.test", "/", config)
        .await
        .expect("wss");
    send_msg(&mut fresh, Message::text("new")).await;
    assert_eq!(next_msg(&mut fresh).await, Message::text("new"));
}

/// Runs `openssl s_client` against `addr` (stdin closed, so it ends after the handshake;
/// killed after 30 s); returns (handshake completed, output).
fn s_client(addr: SocketAddr, sni: &str, args: &[&str]) -> (bool, String) {
    let out = output_within(
        Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &addr.to_string(),
                "-servername",
                sni,
            ])
            .args(args),
        "openssl s_client",
        Duration::from_secs(30),
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && text.contains("Cipher is") && !text.contains("Cipher is (NONE)"),
        text,
    )
}

#[e2e]
async fn old_protocols_and_weak_ciphers_are_refused() {
    let ca = Ca::root("wsgate policy ca");
    let dir = Scratch::new("tls-policy");
    let modern = ca.leaf(&["modern.example.test"], Alg::Ecdsa);
    let legacy_rsa = ca.leaf(&["rsa.example.test"], Alg::Rsa);
    let backend = Backend::start("policy").await;
    let routes = [
        tls_route(
            "modern",
            &["modern.example.test"],
            backend.addr,
            Some(&write_pair(&dir.path("m"), &modern)),
            ", minVersion: \"1.3\"",
            "",
        ),
        tls_route(
            "rsa",
            &["rsa.example.test"],
            backend.addr,
            Some(&write_pair(&dir.path("r"), &legacy_rsa)),
            "",
            "",
        ),
    ]
    .concat();
    let (gw, https) = start_tls(&routes).await;
    let refused = "wsgate_tls_handshakes_total{result=\"incompatible\"";
    // SECLEVEL=0 makes the client really offer what its defaults would hide; each refusal
    // must then come from wsgate, which the metric proves.
    let cases: [(&str, &[&str]); 6] = [
        ("TLS 1.0", &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        ("TLS 1.1", &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        (
            "RSA key exchange, CBC",
            &["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"],
        ),
        (
            "RSA key exchange, no forward secrecy",
            &["-tls1_2", "-cipher", "AES128-GCM-SHA256:@SECLEVEL=0"],
        ),
        (
            "ECDHE with CBC and SHA-1",
            &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"],
        ),
        (
            "ECDHE with CBC and SHA-256",
            &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256:@SECLEVEL=0"],
        ),
    ];
    for (n, (name, args)) in cases.iter().enumerate() {
        let (ok, out) = tokio::task::spawn_blocking({
            let args: Vec<&'static str> = args.to_vec();
            move || s_client(https, "rsa.example.test", &args)
        })
        .await
        .expect("s_client");
        assert!(!ok, "{name} must be refused:\n{out}");
        assert_eq!(
            gw.metric(refused).await,
            (n + 1) as f64,
            "{name} refused by wsgate:\n{out}"
        );
    }
    let check = |sni: &'static str, args: &'static [&'static str]| {
        tokio::task::spawn_blocking(move || s_client(https, sni, args))
    };
    let (ok, out) = check("rsa.example.test", &["-tls1_2"])
        .await
        .expect("s_client");
    assert!(
        ok && out.contains("ECDHE-RSA-AES") && out.contains("GCM"),
        "TLS 1.2 with a modern suite:\n{out}"
    );
    let (ok, out) = check("rsa.example.test", &["-tls1_3"])
        .await
        .expect("s_client");
    assert!(ok && out.contains("TLSv1.3"), "TLS 1.3:\n{out}");
    // minVersion "1.3" on one route: 1.2 refused for that host only.
    let (ok, out) = check("modern.example.test", &["-tls1_2"])
        .await
        .expect("s_client");
    assert!(!ok, "TLS 1.2 refused for a minVersion 1.3 route:\n{out}");
    let (ok, out) = check("modern.example.test", &["-tls1_3"])
        .await
        .expect("s_client");
    assert!(ok, "TLS 1.3 accepted:\n{out}");
    assert_eq!(gw.metric(refused).await, 7.0);
    assert_eq!(backend.requests(), 0);
}

#[e2e]
async fn sessions_resume_with_tickets() {
    let ca = Ca::root("wsgate resume ca");
    let dir = Scratch::new("tls-resume");
    let leaf = ca.leaf(&["resume.example.test"], Alg::Ecdsa);
    let backend = Backend::start("resume").await;
    let routes = tls_route(
        "r",
        &["resume.example.test"],
        backend.addr,
        Some(&write_pair(&dir.path("c"), &leaf)),
        "",
        "",
    );
    let (_gw, https) = start_tls(&routes).await;
    for versions in [Versions::Tls13, Versions::Tls12] {
        let config = client_config(&ca.pem, versions);
        let mut first = wss_connect(https, "resume.example.test", "/", config.clone())
            .await
            .expect("wss");
        send_msg(&mut first, Message::text("a")).await;
        assert_eq!(next_msg(&mut first).await, Message::text("a"));
        close_ws(&mut first).await;
        let second = tls_connect(https, "resume.example.test", config)
            .await
            .expect("TLS");
        assert_eq!(
            second.get_ref().1.handshake_kind(),
            Some(rustls::HandshakeKind::Resumed),
            "{versions:?}: the second handshake resumes"
        );
    }
}

#[e2e]
async fn wsgate_speaks_tls_to_a_wss_backend_and_verifies_it() {
    let ca = Ca::root("wsgate backend ca");
    let other_ca = Ca::root("some other ca");
    let dir = Scratch::new("tls-upstream");
    std::fs::write(dir.path("ca.crt"), &ca.pem).expect("ca");
    std::fs::write(dir.path("other.crt"), &other_ca.pem).expect("ca");
    // The wss backend: a second wsgate terminating TLS in front of a plain echo backend.
    let app = Backend::start("behind-tls").await;
    let leaf = ca.leaf(&["api.internal"], Alg::Ecdsa);
    let inner_routes = tls_route(
        "inner",
        &["api.internal"],
        app.addr,
        Some(&write_pair(&dir.path("inner"), &leaf)),
        "",
        "",
    );
    let (_inner, inner_https) = start_tls(&inner_routes).await;

    let upstream = |name: &str, tls: &str| {
        format!(
            "---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: {name}}}\nspec:\n  hostnames: [\"api.internal\"]\n  rules:\n    - backend:\n        addresses: [\"{inner_https}\"]\n        tls: {tls}\n"
        )
    };
    let verified = upstream(
        "verified",
        &format!(
            "{{caFile: \"{}\", serverName: api.internal}}",
            dir.path("ca.crt").display()
        ),
    );
    let outer = wsgate_tests::wsgate::Wsgate::launch(&verified).await;
    outer.wait_ready().await;
    let ws_through = |outer: &wsgate_tests::wsgate::Wsgate| {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                outer.ws_url("/up"),
            )
            .expect("request");
        req.headers_mut()
            .insert("host", "api.internal".parse().expect("host"));
        within(
            IO_TIMEOUT,
            "ws through wsgate",
            tokio_tungstenite::connect_async(req),
        )
    };
    let (mut ws, _) = ws_through(&outer)
        .await
        .expect("ws over verified backend TLS");
    send_msg(&mut ws, Message::text("via tls")).await;
    assert_eq!(next_msg(&mut ws).await, Message::text("via tls"));

    // A backend certificate from another CA is refused with 502 and never reaches the app.
    outer.rewrite(&upstream(
        "wrong-ca",
        &format!(
            "{{caFile: \"{}\", serverName: api.internal}}",
            dir.path("other.crt").display()
        ),
    ));
    outer.wait_version(2.0).await;
    let before = app.handshakes();
    match ws_through(&outer).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 502),
        other => panic!("expected 502, got {other:?}"),
    }
    assert_eq!(app.handshakes(), before, "nothing reached the app");

    // insecureSkipVerify connects anyway and says so in the log (serverName still sets SNI:
    // without it the inner wsgate, having no default certificate, refuses the handshake).
    // A fresh wsgate: the one above ejected the endpoint after the failed verification.
    let skip = wsgate_tests::wsgate::Wsgate::launch(&upstream(
        "skip",
        "{insecureSkipVerify: true, serverName: api.internal}",
    ))
    .await;
    skip.wait_ready().await;
    let (mut ws, _) = ws_through(&skip)
        .await
        .unwrap_or_else(|e| panic!("insecureSkipVerify connects: {e}: {}", skip.log()));
    send_msg(&mut ws, Message::text("unverified")).await;
    assert_eq!(next_msg(&mut ws).await, Message::text("unverified"));
    assert!(
        skip.log().contains("NOT verified"),
        "skip-verify is logged as a warning"
    );
}
