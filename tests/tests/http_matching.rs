//! Method, header and query parameter matching and the rule filters (header edits,
//! redirects, rewrites), through the real binary to real backends, for plain HTTP and
//! WebSocket upgrades alike.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::client::{close_ws, http_request, next_msg, send_msg};
use wsgate_tests::e2e;
use wsgate_tests::wait::IO_TIMEOUT;
use wsgate_tests::wsgate::Wsgate;

fn config(one: &Backend, two: &Backend) -> String {
    let (a, b) = (one.addr, two.addr);
    format!(
        r#"apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {{name: matching}}
spec:
  hostnames: [match.example.com]
  rules:
    - path: {{type: PathPrefix, value: /}}
      backend: {{addresses: ["{a}"]}}
    - path: {{type: PathPrefix, value: /}}
      headers: [{{name: Version, value: two}}]
      filters:
        responseHeaderModifier: {{add: [{{name: x-matched, value: version-two}}]}}
      backend: {{addresses: ["{b}"]}}
    - path: {{type: PathPrefix, value: /}}
      queryParams: [{{name: animal, value: whale}}]
      backend: {{addresses: ["{b}"]}}
    - path: {{type: PathPrefix, value: /}}
      method: POST
      backend: {{addresses: ["{b}"]}}
    - path: {{type: PathPrefix, value: /old}}
      filters:
        requestRedirect: {{scheme: https, hostname: new.example.com, statusCode: 301,
                           path: {{type: ReplacePrefixMatch, replacePrefixMatch: /new}}}}
      backend: {{addresses: ["{b}"]}}
    - path: {{type: PathPrefix, value: /api}}
      filters:
        requestHeaderModifier:
          set: [{{name: x-env, value: prod}}]
          add: [{{name: x-tag, value: added}}]
          remove: [x-debug]
        urlRewrite:
          hostname: backend.internal
          path: {{type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
      backend: {{addresses: ["{b}"]}}
"#
    )
}

async fn get(
    gw: &Wsgate,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> (u16, String, http::HeaderMap) {
    let mut req = Request::builder()
        .method(method)
        .uri(target)
        .header("host", "match.example.com");
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let req = req.body(Full::new(Bytes::new())).expect("request");
    http_request(&gw.http.to_string(), req)
        .await
        .expect("wsgate answers")
}

fn backend_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["backend"].as_str().unwrap_or_default().to_string()
}

/// Method, target, request headers, the backend that must answer.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[e2e]
async fn requests_reach_the_rule_their_method_headers_and_query_select() {
    let (one, two) = (Backend::start("one").await, Backend::start("two").await);
    let gw = Wsgate::launch(&config(&one, &two)).await;
    gw.wait_ready().await;
    let cases: [Case; 6] = [
        ("GET", "/", &[], "one"),
        ("GET", "/x", &[("version", "two")], "two"),
        ("GET", "/x", &[("version", "three")], "one"),
        ("GET", "/x?animal=whale", &[], "two"),
        ("GET", "/x?animal=dolphin", &[], "one"),
        ("POST", "/x", &[], "two"),
    ];
    for (method, target, headers, want) in cases {
        let (status, body, resp_headers) = get(&gw, method, target, headers).await;
        assert_eq!(status, 200, "{method} {target}: {body}");
        assert_eq!(backend_of(&body), want, "{method} {target} {headers:?}");
        let tagged = resp_headers.get("x-matched").is_some();
        assert_eq!(
            tagged,
            headers.contains(&("version", "two")),
            "{method} {target}"
        );
    }
}

#[e2e]
async fn redirects_are_answered_by_wsgate_and_rewrites_reach_the_backend() {
    let (one, two) = (Backend::start("one").await, Backend::start("two").await);
    let gw = Wsgate::launch(&config(&one, &two)).await;
    gw.wait_ready().await;

    let before = two.requests();
    let (status, _, headers) = get(&gw, "GET", "/old/page?q=1", &[]).await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], "https://new.example.com/new/page?q=1");
    assert_eq!(
        two.requests(),
        before,
        "a redirect never reaches the backend"
    );

    let (status, body, _) = get(&gw, "GET", "/api/rooms?id=7", &[("x-debug", "1")]).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["path"], "/v2/rooms?id=7", "{body}");
    let seen = &v["headers"];
    assert_eq!(seen["host"], "backend.internal", "{body}");
    assert_eq!(seen["x-forwarded-host"], "match.example.com", "{body}");
    assert_eq!(seen["x-env"], "prod", "{body}");
    assert!(seen.get("x-debug").is_none(), "{body}");
    assert_eq!(seen["x-tag"], "added", "{body}");
}

#[e2e]
async fn websocket_upgrades_are_matched_rewritten_and_decorated_the_same_way() {
    let (one, two) = (Backend::start("one").await, Backend::start("two").await);
    let gw = Wsgate::launch(&config(&one, &two)).await;
    gw.wait_ready().await;

    let mut req = gw.ws_url("/chat").into_client_request().expect("request");
    req.headers_mut()
        .insert("host", "match.example.com".parse().expect("host"));
    req.headers_mut()
        .insert("version", "two".parse().expect("value"));
    let connect = tokio_tungstenite::connect_async(req);
    let (mut ws, resp) = tokio::time::timeout(IO_TIMEOUT, connect)
        .await
        .expect("handshake in time")
        .expect("upgrade");
    assert_eq!(
        resp.headers()["x-matched"],
        "version-two",
        "the 101 carries the edit"
    );
    send_msg(&mut ws, Message::text("whoami")).await;
    assert_eq!(next_msg(&mut ws).await, Message::text("two"));
    close_ws(&mut ws).await;

    let mut req = gw
        .ws_url("/api/live")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("host", "match.example.com".parse().expect("host"));
    let (mut ws, _) = tokio::time::timeout(IO_TIMEOUT, tokio_tungstenite::connect_async(req))
        .await
        .expect("handshake in time")
        .expect("upgrade");
    send_msg(&mut ws, Message::text("whoami")).await;
    assert_eq!(next_msg(&mut ws).await, Message::text("two"));
    close_ws(&mut ws).await;
    let rewritten = two.seen().into_iter().any(|s| {
        matches!(&s, Seen::Handshake(path, h) if path == "/v2/live" && h.get("x-env").is_some_and(|v| v == "prod"))
    });
    assert!(
        rewritten,
        "the handshake reached the backend rewritten: {:?}",
        two.seen()
    );
}
