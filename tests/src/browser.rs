//! A real browser driven over WebDriver: Debian's `chromedriver` (port 0, loopback only)
//! starts headless Chromium, loads pages and runs scripts in them, so a test waits in real
//! time for what a page shows instead of guessing how long the page needs.
//!
//! ```text
//!   test ──WebDriver JSON over HTTP──> chromedriver ──DevTools──> chromium ──https/wss──> wsgate
//! ```

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use serde_json::{Value, json};

use crate::client::http_request_within;
use crate::process::{OwnedChild, Stream, start_until};

/// Limit of one WebDriver command; starting Chromium or loading a page on a loaded machine
/// can take many seconds, so this only catches a hung browser.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// A headless Chromium session.
pub struct Browser {
    /// `127.0.0.1:PORT` of chromedriver.
    driver_addr: String,
    session: String,
    /// Chromium's browser process, killed on drop if the session was not ended cleanly.
    browser_pid: Option<u32>,
    _driver: OwnedChild,
}

impl Browser {
    /// Starts chromedriver with `HOME=home` (where Chromium finds its NSS certificate store)
    /// and a headless Chromium session with `args` added to the defaults.
    pub async fn start(home: &Path, args: &[String]) -> Browser {
        let mut cmd = Command::new("chromedriver");
        cmd.args(["--port=0", "--allowed-ips=127.0.0.1"])
            .env("HOME", home);
        let (driver, rest) = start_until(
            &mut cmd,
            "chromedriver (bash scripts/install-test-deps.sh)",
            Stream::Stdout,
            "was started successfully on port ",
            Duration::from_secs(30),
            |_| {},
        );
        let port: u16 = rest
            .trim_end_matches('.')
            .parse()
            .unwrap_or_else(|e| panic!("chromedriver port {rest:?}: {e}"));
        let mut chromium_args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", home.join("profile").display()),
        ];
        chromium_args.extend(args.iter().cloned());
        let mut browser = Browser {
            driver_addr: format!("127.0.0.1:{port}"),
            session: String::new(),
            browser_pid: None,
            _driver: driver,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 60_000, "script": 30_000},
            "goog:chromeOptions": {"args": chromium_args},
        }}});
        let created = browser.command("POST", "/session", caps).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {created}"))
            .to_string();
        browser.browser_pid = created["capabilities"]["goog:processID"]
            .as_u64()
            .and_then(|p| u32::try_from(p).ok());
        if let Some(pid) = browser.browser_pid {
            crate::e2e::track(pid);
        }
        browser
    }

    /// Loads `url` and waits for its `load` event.
    pub async fn goto(&self, url: &str) {
        let path = format!("/session/{}/url", self.session);
        self.command("POST", &path, json!({ "url": url })).await;
    }

    /// Runs `script` (a function body, `return ...`) in the page and returns its result.
    pub async fn eval(&self, script: &str) -> Value {
        let path = format!("/session/{}/execute/sync", self.session);
        self.command("POST", &path, json!({"script": script, "args": []}))
            .await
    }

    /// Polls `script` every 50 ms until it returns a non-null value and returns it; `None`
    /// when `limit` passes first.
    pub async fn wait_for(&self, script: &str, limit: Duration) -> Option<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.eval(script).await;
            if !v.is_null() {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs a Chrome DevTools Protocol command in the page (chromedriver's `goog/cdp`).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let path = format!("/session/{}/goog/cdp/execute", self.session);
        self.command("POST", &path, json!({"cmd": cmd, "params": params}))
            .await
    }

    /// Lays the page out for a screen `width` x `height` CSS pixels (`mobile`: as a phone
    /// does, with its viewport meta tag honoured); reload the page afterwards.
    pub async fn emulate_screen(&self, width: u32, height: u32, mobile: bool) {
        let metrics =
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile});
        self.cdp("Emulation.setDeviceMetricsOverride", metrics)
            .await;
    }

    /// A PNG of the whole page, beyond the visible part.
    pub async fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine;
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        let data = shot["data"]
            .as_str()
            .unwrap_or_else(|| panic!("no screenshot data in {shot}"));
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap_or_else(|e| panic!("screenshot is not base64: {e}"))
    }

    /// Ends the session: chromedriver closes Chromium.
    pub async fn quit(mut self) {
        let path = format!("/session/{}", self.session);
        self.command("DELETE", &path, Value::Null).await;
        if let Some(pid) = self.browser_pid.take() {
            crate::e2e::untrack(pid);
        }
    }

    /// One WebDriver command; returns its `value`, fails the test on a WebDriver error.
    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.driver_addr)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .expect("WebDriver request");
        let (status, text, _) = http_request_within(&self.driver_addr, req, COMMAND_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e:#}"));
        let reply: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}: {text}"));
        assert_eq!(status, 200, "WebDriver {method} {path}: {reply}");
        reply["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Not quit (the test failed): chromedriver does not stop Chromium when it is killed.
        if let Some(pid) = self.browser_pid.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            crate::e2e::untrack(pid);
        }
    }
}
