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
                conditions: Default::default(),
                filters: Default::default(),
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
        refused: Default::default(),
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

fn conditioned(name: &str, path: PathMatch, conditions: crate::table::http::Conditions) -> Route {
    let mut r = route(name, &[exact("match.example.com")], &[path]);
    let mut rules = r.rules.to_vec();
    rules[0].conditions = Arc::new(conditions);
    r.rules = rules.into();
    r
}

type Case = (
    http::Method,
    &'static str,
    Option<&'static str>,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

/// Gateway API's precedence across routes (HTTPRouteMatchingAcrossRoutes, HTTPRouteMethod-,
/// HTTPRouteHeader- and HTTPRouteQueryParamMatching): longest path, then method, then more
/// headers, then more query parameters, then the older route; unmet conditions fall through.
#[test]
fn conditions_order_rules_with_the_same_path() {
    use crate::table::http::Conditions;
    use http::{HeaderMap, HeaderName, HeaderValue, Method};
    let header = |n: &'static str, v: &str| (HeaderName::from_static(n), v.to_string());
    let t = table(vec![
        conditioned("plain", prefix("/"), Conditions::default()),
        conditioned(
            "one-header",
            prefix("/"),
            Conditions {
                headers: vec![header("version", "one")],
                ..Default::default()
            },
        ),
        conditioned(
            "two-headers",
            prefix("/"),
            Conditions {
                headers: vec![header("version", "one"), header("color", "blue")],
                ..Default::default()
            },
        ),
        conditioned(
            "query",
            prefix("/"),
            Conditions {
                query: vec![("animal".into(), "whale".into())],
                headers: vec![header("version", "one")],
                ..Default::default()
            },
        ),
        conditioned(
            "post",
            prefix("/"),
            Conditions {
                method: Some(Method::POST),
                ..Default::default()
            },
        ),
        conditioned("longer", prefix("/v2"), Conditions::default()),
    ]);
    let index = MatchIndex::build(&t);
    let find = |method: Method,
                path: &str,
                query: Option<&str>,
                headers: &[(&'static str, &'static str)]| {
        let mut h = HeaderMap::new();
        for (n, v) in headers {
            h.append(*n, HeaderValue::from_static(v));
        }
        let req = RequestView {
            host: "match.example.com",
            path,
            method: &method,
            query,
            headers: &h,
            tls: None,
        };
        index
            .find_request(&req)
            .map(|(r, _)| t.routes[r].id.name.clone())
    };
    let cases: Vec<Case> = vec![
        (Method::GET, "/", None, vec![], "plain"),
        (
            Method::GET,
            "/",
            None,
            vec![("version", "one")],
            "one-header",
        ),
        (Method::GET, "/", None, vec![("version", "two")], "plain"),
        (
            Method::GET,
            "/",
            None,
            vec![("version", "one"), ("color", "blue")],
            "two-headers",
        ),
        (
            Method::GET,
            "/",
            Some("animal=whale"),
            vec![("version", "one")],
            "query",
        ),
        (
            Method::GET,
            "/",
            Some("animal=dolphin"),
            vec![("version", "one")],
            "one-header",
        ),
        (
            Method::GET,
            "/",
            Some("animal=whale"),
            vec![("version", "one"), ("color", "red")],
            "query",
        ),
        (
            Method::POST,
            "/",
            None,
            vec![("version", "one"), ("color", "blue")],
            "post",
        ),
        (Method::POST, "/v2/x", None, vec![], "longer"),
    ];
    for (method, path, query, headers, want) in cases {
        let desc = format!("{method} {path} {query:?} {headers:?}");
        assert_eq!(
            find(method, path, query, &headers).as_deref(),
            Some(want),
            "{desc}"
        );
    }
}

/// A route bound to one listener (Gateway API) is not matched on the other; an unknown
/// listener (`None`) matches both, so precedence decides.
#[test]
fn routes_bound_to_a_listener_are_matched_there_only() {
    let bound = |name: &str, listeners: crate::table::Listeners| {
        let mut r = route(name, &[exact("chat.example.com")], &[prefix("/")]);
        r.policy = Arc::new(RoutePolicy {
            listeners,
            ..RoutePolicy::default()
        });
        r
    };
    let t = table(vec![
        bound("https-only", crate::table::Listeners::Tls),
        bound("http-only", crate::table::Listeners::Plaintext),
    ]);
    let index = MatchIndex::build(&t);
    let headers = HeaderMap::new();
    let find = |tls: Option<bool>| {
        let req = RequestView {
            host: "chat.example.com",
            path: "/socket.io/",
            method: &Method::GET,
            query: None,
            headers: &headers,
            tls,
        };
        index
            .find_request(&req)
            .map(|(r, _)| t.routes[r].id.name.clone())
    };
    assert_eq!(find(Some(true)).as_deref(), Some("https-only"));
    assert_eq!(find(Some(false)).as_deref(), Some("http-only"));
    assert_eq!(find(None).as_deref(), Some("https-only"), "the older first");
}
