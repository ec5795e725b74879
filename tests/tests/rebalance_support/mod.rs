//! A fleet of WebSocket clients that behave as reconnecting apps do: each one connects, asks
//! which backend it reached, waits, and when wsgate closes it, reconnects at once (with the
//! affinity cookie it was given, when it keeps cookies). Everything a test asserts is logged:
//! where each client is, every close (when, which code, from and to which backend) and every
//! error.

pub mod sio;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::client::{IO_TIMEOUT, Ws, drain, send_msg};
use wsgate_tests::wait::until;

/// One close a client saw.
#[derive(Debug, Clone)]
pub struct Close {
    /// When the close frame arrived.
    pub at: Instant,
    /// Its code (`None`: a close frame without one).
    pub code: Option<u16>,
    /// The backend the connection was on.
    pub from: String,
    /// The backend the reconnect reached, once it did.
    pub to: Option<String>,
}

/// What the clients saw.
#[derive(Debug, Default)]
pub struct Log {
    /// Connected clients per backend name.
    pub on: HashMap<String, usize>,
    /// Every close, in order.
    pub closes: Vec<Close>,
    /// Anything else that went wrong (failed handshakes, streams that ended without a close).
    pub errors: Vec<String>,
}

/// Running clients.
pub struct Fleet {
    log: Arc<Mutex<Log>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// Starts `n` clients of `url`, 50 at a time (each batch connected before the next).
    pub async fn start(url: &str, n: usize, cookies: bool) -> Fleet {
        let (stop, _) = watch::channel(false);
        let mut fleet = Fleet {
            log: Arc::default(),
            stop,
            tasks: Vec::new(),
        };
        for i in 0..n {
            let (url, log, stop) = (url.to_string(), fleet.log.clone(), fleet.stop.subscribe());
            fleet
                .tasks
                .push(tokio::spawn(client(url, cookies, log, stop)));
            if (i + 1) % 50 == 0 || i + 1 == n {
                let want = i + 1;
                until(
                    || format!("{want} clients never connected: {:?}", fleet.snapshot()),
                    || async { fleet.connected() >= want || !fleet.errors().is_empty() },
                )
                .await;
                assert!(fleet.errors().is_empty(), "{:?}", fleet.errors());
            }
        }
        fleet
    }

    /// Connected clients per backend.
    pub fn on(&self) -> HashMap<String, usize> {
        self.lock().on.clone()
    }

    /// Connected clients.
    pub fn connected(&self) -> usize {
        self.lock().on.values().sum()
    }

    /// Closes seen so far.
    pub fn closes(&self) -> Vec<Close> {
        self.lock().closes.clone()
    }

    /// Errors seen so far.
    pub fn errors(&self) -> Vec<String> {
        self.lock().errors.clone()
    }

    fn snapshot(&self) -> String {
        let log = self.lock();
        format!(
            "on {:?}, {} closes, errors {:?}",
            log.on,
            log.closes.len(),
            log.errors
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops every client (their connections drop) and waits for the tasks.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            wsgate_tests::wait::within(IO_TIMEOUT, "a client to stop", t)
                .await
                .expect("client task");
        }
    }
}

/// One client: connect, learn the backend, wait for a close, reconnect; until `stop`.
async fn client(url: String, cookies: bool, log: Arc<Mutex<Log>>, mut stop: watch::Receiver<bool>) {
    let note = |f: &mut dyn FnMut(&mut Log)| f(&mut log.lock().unwrap_or_else(|p| p.into_inner()));
    let mut cookie: Option<String> = None;
    let mut closed: Option<usize> = None;
    loop {
        let (mut ws, set) = match connect(&url, cookie.as_deref()).await {
            Ok(c) => c,
            Err(e) => return note(&mut |l| l.errors.push(format!("handshake: {e}"))),
        };
        if cookies && set.is_some() {
            cookie = set;
        }
        let Some(name) = whoami(&mut ws).await else {
            return note(&mut |l| l.errors.push("no answer to whoami".into()));
        };
        note(&mut |l| {
            *l.on.entry(name.clone()).or_default() += 1;
            if let Some(i) = closed {
                l.closes[i].to = Some(name.clone());
            }
        });
        let ended = tokio::select! {
            _ = stop.changed() => return,
            ended = close_frame(&mut ws) => ended,
        };
        note(&mut |l| {
            if let Some(n) = l.on.get_mut(&name) {
                *n -= 1;
            }
        });
        match ended {
            Ok(code) => {
                let at = Instant::now();
                drain(&mut ws).await;
                note(&mut |l| {
                    closed = Some(l.closes.len());
                    l.closes.push(Close {
                        at,
                        code,
                        from: name.clone(),
                        to: None,
                    });
                });
            }
            Err(e) => return note(&mut |l| l.errors.push(format!("on {name}: {e}"))),
        }
    }
}

/// Opens a WebSocket, presenting `cookie`; returns it and the affinity cookie it was given.
async fn connect(url: &str, cookie: Option<&str>) -> Result<(Ws, Option<String>), String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("cookie", c.parse().map_err(|_| "cookie value")?);
    }
    let open = tokio_tungstenite::connect_async(req);
    let (ws, resp) = tokio::time::timeout(IO_TIMEOUT, open)
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let set = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    Ok((ws, set))
}

/// The backend's name, or `None` if the connection failed first.
async fn whoami(ws: &mut Ws) -> Option<String> {
    send_msg(ws, Message::text("whoami")).await;
    loop {
        match tokio::time::timeout(IO_TIMEOUT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

/// Waits for the close frame: its code, or what came instead.
async fn close_frame(ws: &mut Ws) -> Result<Option<u16>, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => return Ok(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("error instead of a close frame: {e}")),
            None => return Err("ended without a close frame".into()),
        }
    }
}
