//! M4 through the real binary: every path trick of the audit against a protected path behind
//! an open catch-all. Routing and the backend see the normalised path; the host's group is
//! authoritative; encoded separators get 400.

use wsgate_tests::backend::{Backend, Seen};
use wsgate_tests::e2e;
use wsgate_tests::raw::{http_status, upgrade};
use wsgate_tests::wsgate::{Wsgate, routes};

fn paths_routes(backend: &Backend) -> String {
    let open = routes("open", &[backend.addr], "");
    format!(
        "{open}---\napiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata:\n  name: paths\nspec:\n  hostnames: [paths.test]\n  rules:\n    - path: {{type: PathPrefix, value: /admin}}\n      backend:\n        addresses: [\"{}\"]\n  origins: {{allow: [\"https://only.example\"]}}\n",
        backend.addr
    )
}

/// Status of a WebSocket handshake for `path` on host `paths.test`.
async fn handshake(gw: &Wsgate, path: &str) -> u16 {
    let (_, head) = upgrade(gw.http, path, &[("Host", "paths.test")]).await;
    wsgate_tests::raw::status_of(&head)
}

#[e2e]
async fn m4_path_tricks_never_reach_the_protected_route_through_an_open_one() {
    let backend = Backend::start("b").await;
    let gw = Wsgate::launch(&paths_routes(&backend)).await;
    gw.wait_ready().await;
    // `/admin` demands an Origin the client does not send: 403 is "reached the protected
    // route"; 101 would be the open catch-all.
    let cases: &[(&str, u16)] = &[
        ("/admin", 403),
        ("/%61dmin", 403),
        ("/%61%64%6d%69%6e", 403),
        ("//admin", 403),
        ("/./admin", 403),
        ("/x/../admin", 403),
        ("/%2e%2e/admin", 403),
        ("/admin/./x", 403),
        ("/ADMIN", 404),
        ("/other", 404),
        ("/admin%2f", 400),
        ("/admin%2Fx", 400),
        ("/admin%5c", 400),
        ("/admin%zz", 400),
    ];
    for (path, want) in cases {
        assert_eq!(handshake(&gw, path).await, *want, "{path}");
    }
    assert_eq!(backend.handshakes(), 0, "no trick reached any backend");
    // The backend receives the normalised path (and the query as sent).
    let get = "GET /a//b/./c/../%64?q=%2F HTTP/1.1\r\nHost: open.test\r\n\r\n";
    assert_eq!(http_status(gw.http, get).await, 200);
    let (_, head) = upgrade(gw.http, "/x/%2e%2e/room", &[("Host", "open.test")]).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let seen: Vec<String> = backend
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Request(_, path, _) | Seen::Handshake(path, _) => Some(path),
            Seen::Message(_) => None,
        })
        .collect();
    assert_eq!(seen, ["/a/b/d?q=%2F", "/room"]);
}
