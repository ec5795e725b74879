//! The page as rendered from a view with every state: what comes from route objects is
//! escaped, refused routes and ejected endpoints say so.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use wsgate_core::table::RefusedRoute;

use super::render;
use crate::admin::page_view::{EndpointRow, PageView, ReasonRow, RouteRow, RuleRow};
use crate::admin::refusals::Refused;

fn view() -> PageView {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let refused = Refused {
        at: now - Duration::from_secs(30),
        kind: "websocket",
        status: 403,
        reason: "origin_not_allowed",
        route: Some("team-a/chat".into()),
    };
    PageView {
        status: "ready",
        now,
        refresh: Some(10),
        table_version: 7,
        applied_at: Some(now - Duration::from_secs(125)),
        reloads_applied: 7,
        reloads_rejected: 1,
        open_websockets: 2,
        routes: vec![RouteRow {
            label: "team-a/chat".into(),
            hosts: vec!["chat.example.com".into()],
            rules: vec![
                RuleRow {
                    path: "/ws".into(),
                    backend: Ok(vec![EndpointRow {
                        addr: "10.0.0.1:3000".parse().expect("addr"),
                        websockets: 2,
                        active: 3,
                        ejected_for: Some(Duration::from_secs(4)),
                    }]),
                    more_endpoints: 3,
                },
                RuleRow {
                    path: "= /admin".into(),
                    backend: Err("Service <b>admin</b> not found".into()),
                    more_endpoints: 0,
                },
            ],
            websockets: 2,
            problems: vec!["backend unavailable: Service <b>admin</b> not found".into()],
        }],
        more_routes: 0,
        refused_routes: Arc::from(vec![RefusedRoute {
            source: "WebSocketRoute team-b/x".into(),
            reason: "HostnameConflict".into(),
            message: "<script>alert(1)</script> already served".into(),
        }]),
        certificates: Vec::new(),
        reasons: vec![ReasonRow {
            reason: "origin_not_allowed".into(),
            total: 5,
            recent: 1,
            last: Some(refused.clone()),
        }],
        latest: vec![refused],
    }
}

#[test]
fn renders_every_state_and_escapes_what_routes_say() {
    let html = render(&view());
    assert!(
        !html.contains("<script>") && !html.contains("<b>admin"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; already served"));
    assert!(html.contains("Service &lt;b&gt;admin&lt;/b&gt; not found"));
    for shown in [
        "WebSocketRoute team-b/x",
        "HostnameConflict",
        "accepted, degraded",
        "ejected, retry in 4s",
        "3 more endpoints",
        "<code>= /admin</code>",
        "1 rejected",
        "applied 2m 5s ago",
        "30s ago",
        "No certificate served.",
        "name=\"viewport\"",
        "<meta http-equiv=\"refresh\" content=\"10\">",
    ] {
        assert!(html.contains(shown), "{shown} missing from\n{html}");
    }
}
