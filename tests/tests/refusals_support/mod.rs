//! The inputs of the refusal table: for each README row (by the start of its condition),
//! how to provoke it through the real binary.

pub mod env;
pub mod readme;
pub mod send;

use serde_json::json;
use tokio::net::TcpStream;
use wsgate_tests::raw::frame;

use crate::security_support::{jti, mint, now};
use env::Env;

/// How a row's bad input is sent.
pub enum Input {
    /// Request bytes on a plaintext connection.
    Http(String),
    /// The start of a head, never finished.
    Slow(String),
    /// A request on a TLS connection with this SNI.
    Tls(&'static str, String),
    /// A request to the listener that expects a PROXY header.
    Proxy(String),
    /// A handshake answered with `101`, then these frames.
    Frames(String, Vec<u8>),
}

/// What has to happen before the bad input, kept alive until the row is checked.
pub enum Before {
    /// Nothing.
    Nothing,
    /// A WebSocket held open on this host.
    Hold(&'static str),
    /// These requests sent first (each must be admitted).
    Requests(Vec<String>),
}

/// One row's input.
pub struct Case {
    /// The start of the README row's condition.
    pub condition: &'static str,
    /// Done first.
    pub before: Before,
    /// The bad input.
    pub input: Input,
    /// The same refusal for a FirstMessage ticket (a row with a status and a close code).
    pub first_message: Option<Input>,
}

fn case(condition: &'static str, input: Input) -> Case {
    Case {
        condition,
        before: Before::Nothing,
        input,
        first_message: None,
    }
}

fn get(host: &str, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n")
}

fn ws(host: &str, path: &str, extra: &str) -> String {
    send::upgrade(host, path, extra)
}

/// A masked client frame.
fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, true)
}

/// A ticket row, sent twice: in the query of a handshake to `query_host` (the row's HTTP
/// status) and as the first message on `fm_host` (its close code). `None`: no ticket at all
/// (the FirstMessage route then closes when its 1 s `firstMessageTimeout` is up).
fn ticket_row(
    condition: &'static str,
    token: Option<String>,
    query_host: &str,
    fm_host: &str,
) -> Case {
    let path = match &token {
        Some(t) => format!("/ws?ticket={t}"),
        None => "/ws".into(),
    };
    let frames = token
        .map(|t| masked(0x81, t.as_bytes()))
        .unwrap_or_default();
    Case {
        condition,
        before: Before::Nothing,
        input: Input::Http(ws(query_host, &path, "")),
        first_message: Some(Input::Frames(ws(fm_host, "/ws", ""), frames)),
    }
}

fn good_claims() -> serde_json::Value {
    json!({"sub": "u1", "jti": jti(), "exp": now() + 60, "iat": now()})
}

fn with(mut claims: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    if value.is_null() {
        claims.as_object_mut().map(|o| o.remove(key));
    } else {
        claims[key] = value;
    }
    claims
}

/// Every row's input.
pub fn cases(env: &Env) -> Vec<Case> {
    let key = env.key.as_str();
    let t = |key: &str, claims| mint("HS256", key, claims, None);
    let replayed = t(key, good_claims());
    // FirstMessage: 156 legal 125-byte pings fit in the 16 KiB + 4 KiB before a ticket; the
    // header of the 157th does not (only its header is sent: nothing is left unread).
    let ping = masked(0x89, &[b'p'; 125]);
    let mut flood: Vec<u8> = ping.repeat(156);
    flood.extend_from_slice(&ping[..6]);
    let mut big_ping = vec![0x89, 0x80 | 126];
    big_ping.extend_from_slice(&126u16.to_be_bytes());
    big_ping.extend_from_slice(&[1, 2, 3, 4]);
    // "caf" and the first byte of a two-byte sequence, then a continuation frame whose
    // first byte cannot continue it: invalid only across the two frames.
    let mut not_utf8 = masked(0x01, b"caf\xC3");
    not_utf8.extend(masked(0x80, b"("));
    let big_head = format!(
        "GET / HTTP/1.1\r\nHost: open.test\r\nX-Big: {}\r\n\r\n",
        "a".repeat(5000)
    );
    let bad_upgrade = ws("open.test", "/ws", "").replacen("GET", "POST", 1);
    vec![
        case(
            "request head slower",
            Input::Slow("GET / HTTP/1.1\r\nHost: open.test\r\n".into()),
        ),
        case("head larger", Input::Http(big_head)),
        case(
            "more than one `Host`",
            Input::Http("GET / HTTP/1.1\r\nHost: open.test\r\nHost: open.test\r\n\r\n".into()),
        ),
        case(
            "`CONNECT`",
            Input::Http("CONNECT open.test:443 HTTP/1.1\r\nHost: open.test:443\r\n\r\n".into()),
        ),
        case("not GET", Input::Http(bad_upgrade)),
        case("an encoded", Input::Http(get("open.test", "/a%2Fb"))),
        case(
            "on the TLS listener",
            Input::Tls(
                "tls-a.test",
                "GET / HTTP/1.1\r\nHost: tls-b.test\r\nConnection: close\r\n\r\n".into(),
            ),
        ),
        case(
            "a `ws://` upgrade",
            Input::Http(ws("tls-a.test", "/ws", "")),
        ),
        case("`proxyProtocol: true`", Input::Proxy(get("open.test", "/"))),
        case("client address outside", Input::Http(get("src.test", "/"))),
        Case {
            condition: "request rate",
            before: Before::Requests(vec![get("rate.test", "/")]),
            input: Input::Http(get("rate.test", "/")),
            first_message: None,
        },
        case(
            "plain-HTTP body",
            Input::Http(format!(
                "POST / HTTP/1.1\r\nHost: body.test\r\nContent-Length: 100\r\n\r\n{}",
                "b".repeat(100)
            )),
        ),
        Case {
            condition: "too many open WebSockets from",
            before: Before::Hold("perip.test"),
            input: Input::Http(ws("perip.test", "/ws", "")),
            first_message: None,
        },
        Case {
            condition: "too many open WebSockets on",
            before: Before::Hold("perroute.test"),
            input: Input::Http(ws("perroute.test", "/ws", "")),
            first_message: None,
        },
        Case {
            condition: "handshake rate",
            before: Before::Requests(vec![ws("hsrate.test", "/ws", "")]),
            input: Input::Http(ws("hsrate.test", "/ws", "")),
            first_message: None,
        },
        case("no Origin", Input::Http(ws("origin.test", "/ws", ""))),
        case(
            "Origin not allowed",
            Input::Http(ws("origin.test", "/ws", "Origin: https://evil.test\r\n")),
        ),
        ticket_row("no ticket", None, "tickets.test", "fm.test"),
        ticket_row(
            "not a JWT",
            Some("not.a.jwt".into()),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "bad signature",
            Some(t(&env.other_key, good_claims())),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "`exp` passed",
            Some(t(key, with(good_claims(), "exp", json!(now() - 100)))),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "`nbf` in the future",
            Some(t(key, with(good_claims(), "nbf", json!(now() + 1000)))),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "`iat` older",
            Some(t(key, with(good_claims(), "iat", json!(now() - 1000)))),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "required claim missing",
            Some(t(key, with(good_claims(), "jti", json!(null)))),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "`aud` is another",
            Some(t(key, with(good_claims(), "aud", json!("default/other")))),
            "tickets.test",
            "fm.test",
        ),
        ticket_row(
            "`ip` is another",
            Some(t(key, with(good_claims(), "ip", json!("10.9.9.9")))),
            "tickets.test",
            "fm.test",
        ),
        Case {
            before: Before::Requests(vec![ws(
                "tickets.test",
                &format!("/ws?ticket={replayed}"),
                "",
            )]),
            ..ticket_row(
                "`jti` already used",
                Some(replayed),
                "tickets.test",
                "fm.test",
            )
        },
        ticket_row(
            "replay store unreachable",
            Some(t(key, good_claims())),
            "store.test",
            "fmstore.test",
        ),
        case(
            "auth service answered",
            Input::Http(ws("ext.test", "/ws", "")),
        ),
        case(
            "401 for a plain request",
            Input::Http(get("ext.test", "/page")),
        ),
        case("timeout, error", Input::Http(ws("exterr.test", "/ws", ""))),
        case(
            "FirstMessage: more than",
            Input::Frames(ws("fm.test", "/ws", ""), flood),
        ),
        case(
            "FirstMessage: a frame",
            Input::Frames(ws("fm.test", "/ws", ""), big_ping),
        ),
        case(
            "`protocol: Strict` (default), after `101`: unmasked",
            Input::Frames(
                ws("strict.test", "/ws", ""),
                frame(0x81, b"unmasked", false),
            ),
        ),
        case(
            "`protocol: Strict` (default), after `101`: a text message",
            Input::Frames(ws("strict.test", "/ws", ""), not_utf8),
        ),
    ]
}

/// Does what a case needs first; returns what must stay open meanwhile.
pub async fn before(env: &Env, before: &Before) -> Vec<TcpStream> {
    match before {
        Before::Nothing => Vec::new(),
        Before::Hold(host) => vec![send::hold(env.gw.http, host).await],
        Before::Requests(list) => {
            let mut kept = Vec::new();
            for req in list {
                let mut tcp = send::connect(env.gw.http).await;
                wsgate_tests::raw::send(&mut tcp, req.as_bytes()).await;
                let a = send::answer(&mut tcp).await;
                assert!(
                    matches!(a.status, 101 | 200),
                    "{req:?} was to be admitted: {}",
                    a.head
                );
                kept.push(tcp);
            }
            kept
        }
    }
}
