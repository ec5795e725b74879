//! Upstream keep-alive reuse: an endpoint may close an idle keep-alive connection just as
//! wsgate sends the next request on it. A bodiless idempotent request then goes out again on a
//! fresh connection and the client never sees the race; a POST is answered 502 and is never
//! sent twice.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsgate_tests::client::http_request;
use wsgate_tests::e2e;
use wsgate_tests::wsgate::{Wsgate, routes};

/// One request head the backend read: method, path, and whether it came on a reused connection.
type Seen = (String, String, bool);

/// A backend that answers the first request on each connection (keep-alive) and closes the
/// connection without answering when a second request arrives on it, as a server does whose
/// idle timeout fires as the request comes in.
struct ClosingBackend {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ClosingBackend {
    async fn start() -> ClosingBackend {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp, log.clone()));
            }
        });
        ClosingBackend { addr, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

async fn serve(mut tcp: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut reused = false;
    let mut buf = Vec::new();
    loop {
        let Some(head) = read_request(&mut tcp, &mut buf).await else {
            return;
        };
        let mut words = head.split(' ');
        let method = words.next().unwrap_or("").to_string();
        let path = words.next().unwrap_or("").to_string();
        seen.lock().expect("seen").push((method, path, reused));
        if reused {
            return; // closes without an answer
        }
        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok";
        if tcp.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        reused = true;
    }
}

/// Reads one request (head and a `content-length` body) from `tcp`; its head, or None at EOF.
async fn read_request(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tcp.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let body_len = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < end + body_len {
        let n = tcp.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..end + body_len);
    Some(head)
}

async fn send(gw: &Wsgate, method: &str, path: &str, body: &'static str) -> (u16, String) {
    let authority = gw
        .http_url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "app.example.com")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("request");
    let (status, body, _) = http_request(&authority, req).await.expect("response");
    (status, body)
}

#[e2e]
async fn a_get_on_a_keepalive_connection_the_endpoint_closed_goes_out_again_on_a_fresh_one() {
    let backend = ClosingBackend::start().await;
    let gw = Wsgate::launch(&routes("app", &[backend.addr], "")).await;
    gw.wait_ready().await;
    // Every GET after the first goes out on the pooled connection, which the backend closes.
    for i in 0..5 {
        let (status, body) = send(&gw, "GET", &format!("/get/{i}"), "").await;
        assert_eq!((status, body.as_str()), (200, "ok"), "GET /get/{i}");
    }
    let seen = backend.seen();
    let closed: Vec<_> = seen.iter().filter(|s| s.2).collect();
    assert!(
        !closed.is_empty(),
        "no GET went out on a reused connection: {seen:?}"
    );
    for (method, path, _) in closed {
        let answered = seen.iter().filter(|s| &s.1 == path && !s.2).count();
        assert_eq!(
            answered, 1,
            "{method} {path} was sent again on a fresh connection and answered: {seen:?}"
        );
    }
}

#[e2e]
async fn a_post_on_a_keepalive_connection_the_endpoint_closed_is_502_and_never_sent_twice() {
    let backend = ClosingBackend::start().await;
    let gw = Wsgate::launch(&routes("app", &[backend.addr], "")).await;
    gw.wait_ready().await;
    let (status, _) = send(&gw, "GET", "/first", "").await;
    assert_eq!(status, 200, "the first request opens the connection");
    let mut refused = None;
    for i in 0..5 {
        let path = format!("/post/{i}");
        let (status, _) = send(&gw, "POST", &path, "{\"n\":1}").await;
        if status == 502 {
            refused = Some(path);
            break;
        }
        assert_eq!(status, 200, "POST {path} on a fresh connection");
    }
    let seen = backend.seen();
    let path = refused.unwrap_or_else(|| panic!("no POST met a closed connection: {seen:?}"));
    let sent = seen.iter().filter(|s| s.1 == path).count();
    assert_eq!(sent, 1, "POST {path} reached the backend once: {seen:?}");
}
