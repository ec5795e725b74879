//! The admin page at `/` of the real binary, rendered by headless Chromium under a known
//! load (WebSockets held open through wsgate to a real backend, refused requests): the
//! numbers it shows equal what `/metrics` reports at the same moment, it names routes,
//! hosts, paths, endpoints and certificates, shows no secret, and fits a phone's screen.
//! Screenshots (desktop and phone) are written to `target/tmp/`.

use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::backend::Backend;
use wsgate_tests::browser::Browser;
use wsgate_tests::client::{Ws, http_get, ws_connect};
use wsgate_tests::e2e;
use wsgate_tests::process::output_within;
use wsgate_tests::wait::{IO_TIMEOUT, within};
use wsgate_tests::wsgate::{Scratch, Wsgate, metric_value};

const KEY: &str = "admin-page-ticket-key-never-shown-0123456789";
const TICKET: &str = "admin-page-ticket-value-never-shown";

fn routes(backend: std::net::SocketAddr, cert: &std::path::Path, key: &std::path::Path) -> String {
    let doc = |name: &str, spec: &str| {
        format!(
            "---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: {name}, namespace: team-a}}\nspec:\n{spec}"
        )
    };
    let rule = |path: &str| {
        format!(
            "    - path: {{type: PathPrefix, value: {path}}}\n      backend: {{addresses: [\"{backend}\"]}}\n"
        )
    };
    [
        doc(
            "chat",
            &format!(
                "  hostnames: [chat.example.test, \"*.chat.example.test\"]\n  rules:\n{}{}",
                rule("/chat"),
                rule("/live")
            ),
        ),
        doc(
            "feed",
            &format!("  rules:\n{}{}", rule("/feed"), rule("/refuse")),
        ),
        doc(
            "billing",
            &format!(
                "  hostnames: [billing.example.test]\n  tls: {{certFile: \"{0}/tls.crt\", keyFile: \"{0}/tls.key\", redirectHttp: false}}\n  rules:\n{1}",
                cert.display(),
                rule("/")
            ),
        ),
        doc(
            "tickets",
            &format!(
                "  auth:\n    ticket:\n      keyFile: {}\n      from: [Query]\n  rules:\n{}",
                key.display(),
                rule("/tickets")
            ),
        ),
    ]
    .concat()
}

/// A WebSocket through wsgate with `host` as its Host header.
async fn open(gw: &Wsgate, host: &str, path: &str) -> Ws {
    let mut req = gw.ws_url(path).into_client_request().expect("request");
    req.headers_mut()
        .insert("host", host.parse().expect("host header"));
    let connect = tokio_tungstenite::connect_async(req);
    let (ws, _) = within(IO_TIMEOUT, "a WebSocket through wsgate", connect)
        .await
        .expect("the handshake succeeds");
    ws
}

/// What the page shows, read in the browser.
const READ: &str = r#"
const num = (sel) => { const e = document.querySelector(sel); return e ? Number(e.textContent) : null; };
const ws = (route) => num(`tr[data-route="${route}"] td[data-field="websockets"]`);
const reasons = {};
for (const tr of document.querySelectorAll('tr[data-reason]')) {
  reasons[tr.dataset.reason] = Number(tr.querySelector('[data-field="total"]').textContent);
}
const endpoints = [...document.querySelectorAll('tr[data-route="team-a/chat"] li[data-endpoint] b[data-field="websockets"]')]
  .map((b) => Number(b.textContent));
const certs = {};
for (const tr of document.querySelectorAll('tr[data-host]')) { certs[tr.dataset.host] = Number(tr.dataset.notAfter); }
return {
  open: num('#open-websockets'), version: num('#table-version'), applied: num('#reloads-applied'),
  chat: ws('team-a/chat'), feed: ws('team-a/feed'), billing: ws('team-a/billing'),
  endpoints, reasons, certs,
  text: document.body.innerText, html: document.documentElement.outerHTML,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
};
"#;

const OPEN: &str = "wsgate_active_connections{";
const ERRORS: &str = "wsgate_request_errors_total{";

#[e2e(multi_thread, heavy, limit = 300)]
async fn the_admin_page_shows_what_metrics_count_and_fits_a_phone() {
    let dir = Scratch::new("admin-page");
    let backend = Backend::start("admin-backend").await;
    let cert = expiring_cert(&dir.path("billing"), "billing.example.test", 10);
    let key = dir.path("ticket.key");
    std::fs::write(&key, KEY).expect("write key");
    let gw = Wsgate::launch(&routes(backend.addr, &cert, &key)).await;
    gw.wait_ready().await;
    let held = load(&gw).await;

    // Served as HTML that may run no script and load nothing else.
    let (status, _, headers) = gw.admin_request(http::Method::GET, "/", IO_TIMEOUT).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap_or("");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'unsafe-inline'"),
        "{csp}"
    );
    let (_, refreshing) = gw.admin_get("/?refresh=30").await;
    assert!(refreshing.contains("<meta http-equiv=\"refresh\" content=\"30\">"));

    let browser = Browser::start(&dir.0, &[]).await;
    browser.emulate_screen(1280, 900, false).await;
    let url = format!("http://{}/", gw.admin);
    browser.goto(&url).await;
    let page = browser
        .wait_for(
            "return document.getElementById('open-websockets') ? 1 : null",
            Duration::from_secs(60),
        )
        .await;
    assert!(page.is_some(), "the page never rendered:\n{}", gw.log());
    let shown = browser.eval(READ).await;
    // The same moment: nothing opens, closes or is refused while the page is read.
    let (_, metrics) = gw.admin_get("/metrics").await;
    let desktop = browser.screenshot_png().await;

    browser.emulate_screen(390, 844, true).await;
    browser.goto(&url).await;
    let phone = browser.eval(READ).await;
    let phone_png = browser.screenshot_png().await;
    browser.quit().await;
    save("admin-page.png", &desktop);
    save("admin-page-phone.png", &phone_png);

    counts_match(&shown, &metrics, backend.addr);
    names_hosts_and_no_secret(&shown);
    // On a phone the page is as tall as it needs but never wider than the screen.
    assert_eq!(num(&phone["open"]), 4.0);
    assert!(
        phone["overflow"].as_f64().is_some_and(|o| o <= 0.0),
        "the page is wider than a phone's screen by {} px",
        phone["overflow"]
    );
    for png in [&desktop, &phone_png] {
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    }
    drop(held);
}

/// The load: 3 WebSockets on `chat` (two paths) and 1 on `feed`, returned to be held open;
/// 2 requests no route matches, 1 upgrade with a ticket that cannot verify and 1 the
/// backend refuses.
async fn load(gw: &Wsgate) -> Vec<Ws> {
    let mut held = Vec::new();
    for path in ["/chat", "/chat/room-1", "/live"] {
        held.push(open(gw, "chat.example.test", path).await);
    }
    held.push(open(gw, "anything.example.test", "/feed").await);
    for path in ["/nowhere?token=s3cr3t-query", "/nowhere/else"] {
        let (status, _) = http_get(&gw.http_url(path), Some("nohost.example.test"))
            .await
            .expect("request");
        assert_eq!(status, 404);
    }
    let refused = ws_connect(&gw.ws_url(&format!("/tickets?ticket={TICKET}"))).await;
    assert!(refused.is_err(), "a ticket that cannot verify is refused");
    let refused = ws_connect(&gw.ws_url("/refuse")).await;
    assert!(refused.is_err(), "the backend refuses this upgrade");
    assert_eq!(gw.wait_metric(OPEN, 4.0).await, 4.0);
    assert_eq!(gw.wait_metric(ERRORS, 3.0).await, 3.0);
    held
}

/// Every number the page shows equals its series on `/metrics`, and the known load.
fn counts_match(shown: &Value, metrics: &str, ep: std::net::SocketAddr) {
    let m = |prefix: &str| metric_value(metrics, prefix);
    let route_open = |route: &str| {
        m(&format!(
            "wsgate_active_connections{{endpoint=\"{ep}\",namespace=\"team-a\",route=\"{route}\"}}"
        ))
    };
    let ctx = || format!("page: {}\nmetrics:\n{metrics}", shown["text"]);
    assert_eq!(num(&shown["open"]), 4.0, "{}", ctx());
    assert_eq!(num(&shown["open"]), m(OPEN), "{}", ctx());
    assert_eq!(num(&shown["chat"]), 3.0, "{}", ctx());
    assert_eq!(num(&shown["chat"]), route_open("chat"), "{}", ctx());
    assert_eq!(num(&shown["feed"]), route_open("feed"), "{}", ctx());
    assert_eq!(num(&shown["billing"]), 0.0, "{}", ctx());
    // Each of chat's two rules lists the one endpoint with the route's 3 WebSockets.
    assert_eq!(shown["endpoints"], serde_json::json!([3, 3]), "{}", ctx());
    assert_eq!(num(&shown["version"]), m("wsgate_route_table_version "));
    let applied = m("wsgate_route_table_reloads_total{result=\"applied\"}");
    assert_eq!(num(&shown["applied"]), applied);
    let reasons = shown["reasons"].as_object().expect("reasons");
    assert_eq!(reasons.get("no_route").map(num), Some(2.0), "{}", ctx());
    let rejected = reasons.get("backend_rejected").map(num);
    assert_eq!(rejected, Some(1.0), "{}", ctx());
    assert_eq!(reasons.len(), 3, "and the ticket's reason: {}", ctx());
    let rejected =
        "wsgate_handshakes_total{namespace=\"team-a\",result=\"backend_rejected\",route=\"feed\"}";
    for (reason, total) in reasons {
        let counted = match reason.as_str() {
            "backend_rejected" => m(rejected),
            _ => m(&format!("{ERRORS}reason=\"{reason}\"}}")),
        };
        assert_eq!(num(total), counted, "refusals of {reason}: {}", ctx());
    }
    let expiry = m("wsgate_certificate_expiry_timestamp_seconds{host=\"billing.example.test\"}");
    assert!(expiry > 0.0, "{metrics}");
    let shown_expiry = shown["certs"]["billing.example.test"].as_f64();
    assert_eq!(shown_expiry, Some(expiry));
}

/// Hosts and paths are named; no secret of the routes or the requests appears.
fn names_hosts_and_no_secret(shown: &Value) {
    let text = shown["text"].as_str().unwrap_or_default();
    for expected in [
        "chat.example.test",
        "*.chat.example.test",
        "/live",
        "team-a/tickets",
    ] {
        assert!(
            text.contains(expected),
            "{expected} missing from the page:\n{text}"
        );
    }
    let html = shown["html"].as_str().unwrap_or_default();
    for secret in [KEY, TICKET, "s3cr3t-query"] {
        assert!(!html.contains(secret), "{secret} leaked into the page");
    }
    assert!(!html.contains("<script"), "the page runs no script");
}

/// A self-signed certificate for `host` valid for `days` more days (so the page has an
/// expiry to warn about), as `tls.crt` and `tls.key` in `dir`.
fn expiring_cert(dir: &std::path::Path, host: &str, days: u32) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("cert dir");
    let out = output_within(
        std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args([
                "-nodes",
                "-days",
                &days.to_string(),
                "-subj",
                &format!("/CN={host}"),
            ])
            .args(["-addext", &format!("subjectAltName=DNS:{host}")])
            .arg("-keyout")
            .arg(dir.join("tls.key"))
            .arg("-out")
            .arg(dir.join("tls.crt")),
        "openssl req",
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.to_path_buf()
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{v} is not a number shown on the page"))
}

/// Keeps a screenshot in `target/tmp/` for people to look at.
fn save(name: &str, png: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!("screenshot: {}", path.display());
}
