use std::sync::Arc;

use super::*;
use crate::table::{Backend, HostMatch, PathMatch, Route, RouteId, RoutePolicy, Rule};

fn route(name: &str, hosts: &[HostMatch], paths: &[PathMatch]) -> Route {
    Route {
        id: RouteId {
            namespace: "default".into(),
            name: name.into(),
        },
        hostnames: hosts.to_vec().into(),
        rules: paths
            .iter()
            .map(|p| Rule {
                path: p.clone(),
                backend: Backend::Invalid {
                    reason: name.into(),
                },
                upstream_tls: None,
            })
            .collect::<Vec<_>>()
            .into(),
        policy: Arc::new(RoutePolicy::default()),
        tls: None,
    }
}

fn exact(h: &str) -> HostMatch {
    HostMatch::Exact(h.into())
}
fn wild(suffix: &str) -> HostMatch {
    HostMatch::Wildcard(suffix.into())
}
fn prefix(p: &str) -> PathMatch {
    PathMatch::Prefix(p.into())
}
fn exact_path(p: &str) -> PathMatch {
    PathMatch::Exact(p.into())
}

fn table(routes: Vec<Route>) -> RouteTable {
    RouteTable {
        version: 1,
        routes: routes.into(),
    }
}

#[test]
fn precedence_table() {
    let t = table(vec![
        route("any-root", &[], &[prefix("/")]),
        route("wild", &[wild(".example.com")], &[prefix("/")]),
        route("wild-deep", &[wild(".eu.example.com")], &[prefix("/")]),
        route(
            "chat",
            &[exact("chat.example.com")],
            &[prefix("/socket"), exact_path("/socket/admin")],
        ),
        route(
            "chat-long",
            &[exact("chat.example.com")],
            &[prefix("/socket/v2")],
        ),
        route("api", &[wild(".api.example.com")], &[prefix("/v1")]),
        route("dup-first", &[exact("dup.example.com")], &[prefix("/a")]),
        route("dup-second", &[exact("dup.example.com")], &[prefix("/a")]),
    ]);
    let index = MatchIndex::build(&t);
    let name = |host: &str, path: &str| {
        index
            .find(host, path)
            .map(|(r, i)| (t.routes[r].id.name.clone(), i))
    };
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, usize)>);
    let cases: &[Case] = &[
        // Exact host, longest path first.
        ("chat.example.com", "/socket/v2/x", Some(("chat-long", 0))),
        ("chat.example.com", "/socket/x", Some(("chat", 0))),
        // Exact path beats a prefix of the same length.
        ("chat.example.com", "/socket/admin", Some(("chat", 1))),
        // The exact host's group is authoritative: a path it does not declare (/socketx is
        // not under /socket) finds nothing, never the wildcard or host-less route.
        ("chat.example.com", "/socketx", None),
        ("chat.example.com", "/", None),
        // Case and port are ignored in the host.
        ("CHAT.example.com:8443", "/socket", Some(("chat", 0))),
        // Longest wildcard first; the bare domain does not match a wildcard.
        ("a.eu.example.com", "/", Some(("wild-deep", 0))),
        ("a.b.example.com", "/", Some(("wild", 0))),
        ("example.com", "/", Some(("any-root", 0))),
        // So is the longest matching wildcard's group.
        ("x.api.example.com", "/v1/a", Some(("api", 0))),
        ("x.api.example.com", "/v2", None),
        // Same host and path: table order decides.
        ("dup.example.com", "/a/b", Some(("dup-first", 0))),
        ("unknown.test", "/anything", Some(("any-root", 0))),
    ];
    for (host, path, want) in cases {
        let got = name(host, path);
        let want = want.map(|(n, i)| (n.to_string(), i));
        assert_eq!(got, want, "{host}{path}");
    }
}

#[test]
fn no_match_without_a_catch_all() {
    let t = table(vec![route("only", &[exact("a.test")], &[exact_path("/x")])]);
    let index = MatchIndex::build(&t);
    assert_eq!(index.find("a.test", "/x/y"), None);
    assert_eq!(index.find("b.test", "/x"), None);
    assert_eq!(index.find("a.test", "/x"), Some((0, 0)));
}

#[test]
fn prefix_matching_is_segment_aware() {
    assert!(path_matches(&prefix("/chat"), "/chat"));
    assert!(path_matches(&prefix("/chat"), "/chat/"));
    assert!(path_matches(&prefix("/chat"), "/chat/room"));
    assert!(!path_matches(&prefix("/chat"), "/chatroom"));
    assert!(path_matches(&prefix("/"), "/anything"));
    assert!(!path_matches(&exact_path("/chat"), "/chat/"));
}

#[test]
fn m4_host_group_is_authoritative_and_never_falls_through() {
    let t = table(vec![
        route("catch-all", &[], &[prefix("/")]),
        route("open", &[wild(".test")], &[prefix("/")]),
        route("paths", &[exact("paths.test")], &[prefix("/admin")]),
    ]);
    let index = MatchIndex::build(&t);
    assert_eq!(index.find("paths.test", "/admin"), Some((2, 0)));
    for path in ["/", "/ADMIN", "/adminx", "/other"] {
        assert_eq!(index.find("paths.test", path), None, "{path}");
    }
    assert_eq!(index.find("other.test", "/x"), Some((1, 0)));
    assert_eq!(index.find("elsewhere.example", "/x"), Some((0, 0)));
}
