//! A real browser: headless Chromium loads a page over https through wsgate, and the page
//! opens `wss://` through wsgate to a plain backend and shows the echo.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use support::certs::{Alg, Ca};
use support::{start_tls, tls_route, write_pair};
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::wsgate::Scratch;

/// Trusts `ca_pem` in a private NSS database under `home` (where Chromium on Linux looks).
fn trust_ca(home: &Path, ca_pem: &str) {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("nssdb dir");
    let ca = home.join("ca.crt");
    std::fs::write(&ca, ca_pem).expect("write CA");
    let db_arg = format!("sql:{}", db.display());
    let ok = |args: &[&str]| {
        let status = Command::new("certutil")
            .args(args)
            .status()
            .expect("run certutil");
        assert!(status.success(), "certutil {args:?} failed");
    };
    ok(&["-d", &db_arg, "-N", "--empty-password"]);
    ok(&[
        "-d",
        &db_arg,
        "-A",
        "-t",
        "C,,",
        "-n",
        "wsgate-test-ca",
        "-i",
        &ca.display().to_string(),
    ]);
}

/// Loads `url` in headless Chromium (HOME = `home`) and returns the DOM after scripts ran.
fn chromium_dump_dom(home: &Path, url: &str, resolve: &str) -> String {
    let profile = home.join("profile");
    let out = Command::new("timeout")
        .arg("60")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--host-resolver-rules=MAP {resolve} 127.0.0.1"))
        .args(["--dump-dom", "--virtual-time-budget=5000", url])
        .env("HOME", home)
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn chromium_opens_wss_through_wsgate_from_an_https_page() {
    let ca = Ca::root("wsgate browser ca");
    let leaf = ca
        .intermediate("wsgate browser intermediate")
        .leaf(&["chat.example.test"], Alg::Ecdsa);
    let dir = Scratch::new("tls-browser");
    let backend = Backend::start("browser-backend").await;
    let routes = tls_route(
        "chat",
        &["chat.example.test"],
        backend.addr,
        Some(&write_pair(&dir.path("c"), &leaf)),
        "",
        "",
    );
    let (gw, https) = start_tls(&routes).await;
    // The browser trusts the test root: page and WebSocket verify wsgate's full chain.
    trust_ca(&dir.0, &ca.pem);
    let url = format!("https://chat.example.test:{}/page.html", https.port());
    // Headless Chromium's virtual time can end the page before the socket opens on a loaded
    // machine (wsgate then logs a close with no message); each attempt is a full, fresh check.
    let mut dom = String::new();
    for _ in 0..3 {
        dom = tokio::task::spawn_blocking({
            let (home, url) = (dir.0.clone(), url.clone());
            move || chromium_dump_dom(&home, &url, "chat.example.test")
        })
        .await
        .expect("chromium");
        if dom.contains("ECHO wss:// browser-backend") {
            break;
        }
    }
    assert!(
        dom.contains("ECHO wss:// browser-backend"),
        "the page echoed over wss://; DOM:\n{dom}\nwsgate log:\n{}",
        gw.log()
    );
    let seen = backend.seen();
    let page_proto = seen.iter().find_map(|s| match s {
        Seen::Request(_, path, h) if path == "/page.html" => h.get("x-forwarded-proto").cloned(),
        _ => None,
    });
    assert_eq!(
        page_proto.as_ref().map(|v| v.as_bytes()),
        Some(&b"https"[..])
    );
    assert!(
        seen.iter().any(|s| matches!(s, Seen::Handshake(p, h) if p == "/echo" && h.get("origin").is_some_and(|o| o == format!("https://chat.example.test:{}", https.port()).as_str()))),
        "the browser's handshake reached the backend with its Origin"
    );
}
