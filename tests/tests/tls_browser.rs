//! A real browser: headless Chromium loads a page over https through wsgate, and the page
//! opens `wss://` through wsgate to a plain backend and shows the echo.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::certs::{Alg, Ca};
use support::{start_tls, tls_route, write_pair};
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::browser::Browser;
use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::wsgate::Scratch;

/// Trusts `ca_pem` in a private NSS database under `home` (where Chromium on Linux looks).
fn trust_ca(home: &Path, ca_pem: &str) {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("nssdb dir");
    let ca = home.join("ca.crt");
    std::fs::write(&ca, ca_pem).expect("write CA");
    let db_arg = format!("sql:{}", db.display());
    let ok = |args: &[&str]| {
        let out = output_within(
            Command::new("certutil").args(args),
            "certutil",
            Duration::from_secs(30),
        );
        assert!(
            out.status.success(),
            "certutil {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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

/// The page writes the echo (or an error) into `#out`, which says `pending` until then.
const OUTCOME: &str = "const t = document.getElementById('out').textContent; \
                       return t === 'pending' ? null : t;";

#[e2e(multi_thread, heavy, limit = 300)]
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
    // One browser, one page load, and a real-time wait for what the page shows: the socket
    // opens whenever the machine gets to it, and only a hang runs into the limit.
    let browser = Browser::start(
        &dir.0,
        &["--host-resolver-rules=MAP chat.example.test 127.0.0.1".to_string()],
    )
    .await;
    browser.goto(&url).await;
    let outcome = browser.wait_for(OUTCOME, Duration::from_secs(60)).await;
    let dom = browser
        .eval("return document.documentElement.outerHTML")
        .await;
    browser.quit().await;
    assert_eq!(
        outcome.as_ref().and_then(|v| v.as_str()),
        Some("ECHO wss:// browser-backend"),
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
