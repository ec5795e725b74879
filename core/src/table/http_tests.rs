use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::*;

fn prefix(matched: &str, replacement: &str) -> PathRewrite {
    PathRewrite::Prefix {
        matched: matched.into(),
        replacement: replacement.into(),
    }
}

/// The cases of Gateway API's HTTPRouteRewritePath conformance test and the spec's examples.
#[test]
fn prefix_rewrites_follow_the_gateway_api_examples() {
    let cases = [
        ("/prefix/one", "/one", "/prefix/one/two", "/one/two"),
        ("/prefix/one", "/one", "/prefix/one", "/one"),
        ("/strip-prefix", "/", "/strip-prefix/three", "/three"),
        ("/strip-prefix", "/", "/strip-prefix", "/"),
        ("/strip-prefix", "", "/strip-prefix/x", "/x"),
        ("/foo", "/xyz", "/foo/bar", "/xyz/bar"),
        ("/foo", "/xyz/", "/foo/bar", "/xyz/bar"),
        ("/", "/api", "/v1/x", "/api/v1/x"),
        ("/", "/api", "/", "/api"),
    ];
    for (matched, replacement, path, want) in cases {
        assert_eq!(
            prefix(matched, replacement).apply(path),
            want,
            "{matched} -> {replacement} on {path}"
        );
    }
    assert_eq!(PathRewrite::Full("/one".into()).apply("/full/x"), "/one");
}

#[test]
fn redirect_locations_follow_the_port_rules() {
    let r = |scheme: Option<&str>, host: Option<&str>, port: Option<u16>| Redirect {
        scheme: scheme.map(Into::into),
        hostname: host.map(Into::into),
        path: None,
        port,
        status: 302,
    };
    let loc = |red: Redirect, host: &str| red.location("http", host, "/a", Some("b=1"));
    // Scheme change: the new scheme's well-known port, which the Location leaves out.
    assert_eq!(
        loc(r(Some("https"), None, None), "chat.example.com:8080"),
        "https://chat.example.com/a?b=1"
    );
    // No scheme: the port the client used.
    assert_eq!(
        loc(
            r(None, Some("other.example.com"), None),
            "chat.example.com:8080"
        ),
        "http://other.example.com:8080/a?b=1"
    );
    assert_eq!(
        loc(r(None, None, Some(8443)), "chat.example.com"),
        "http://chat.example.com:8443/a?b=1"
    );
    assert_eq!(
        loc(r(Some("http"), None, Some(80)), "[::1]:9000"),
        "http://[::1]/a?b=1"
    );
    let mut with_path = r(None, None, None);
    with_path.path = Some(prefix("/a", "/z"));
    assert_eq!(
        with_path.location("https", "h.example", "/a/b", None),
        "https://h.example/z/b"
    );
}

#[test]
fn conditions_need_every_header_and_parameter_and_the_method() {
    let c = Conditions {
        method: Some(Method::GET),
        headers: vec![(HeaderName::from_static("x-version"), "two".into())],
        query: vec![("room".into(), "a b".into()), ("v".into(), "".into())],
    };
    let mut h = HeaderMap::new();
    h.append("x-version", HeaderValue::from_static("one"));
    h.append("x-version", HeaderValue::from_static("two"));
    assert!(c.matches(&Method::GET, Some("room=a b&v"), &h));
    assert!(c.matches(&Method::GET, Some("v=&x=1&room=a b"), &h));
    assert!(!c.matches(&Method::POST, Some("room=a b&v"), &h), "method");
    assert!(
        !c.matches(&Method::GET, Some("Room=a b&v"), &h),
        "names are case-sensitive"
    );
    assert!(
        !c.matches(&Method::GET, Some("room=a b"), &h),
        "missing parameter"
    );
    assert!(!c.matches(&Method::GET, None, &h), "no query");
    assert!(
        !c.matches(&Method::GET, Some("room=a b&v"), &HeaderMap::new()),
        "no header"
    );
    assert!(Conditions::default().matches(&Method::PUT, None, &HeaderMap::new()));
    assert_eq!(c.specificity(), (true, 1, 2));
}

/// Query parameters are compared percent-decoded, names and values, as clients encode them.
#[test]
fn query_parameters_match_after_percent_decoding() {
    let c = Conditions {
        query: vec![("room".into(), "a b/é".into())],
        ..Conditions::default()
    };
    let h = HeaderMap::new();
    for (query, want) in [
        ("room=a%20b%2F%C3%A9", true),
        ("r%6Fom=a%20b/%c3%a9", true),
        ("room=a b/é", true),
        ("room=a%2520b%2F%C3%A9", false),
        ("room=a%20b", false),
        ("room=a%2", false),
    ] {
        assert_eq!(c.matches(&Method::GET, Some(query), &h), want, "{query}");
    }
}

#[test]
fn header_edits_set_then_add_then_remove() {
    let edits = HeaderEdits {
        set: vec![(
            HeaderName::from_static("x-set"),
            HeaderValue::from_static("s"),
        )],
        add: vec![(
            HeaderName::from_static("x-add"),
            HeaderValue::from_static("a2"),
        )],
        remove: vec![HeaderName::from_static("x-gone")],
    };
    let mut h = HeaderMap::new();
    h.insert("x-set", HeaderValue::from_static("old"));
    h.insert("x-add", HeaderValue::from_static("a1"));
    h.insert("x-gone", HeaderValue::from_static("g"));
    edits.apply(&mut h);
    assert_eq!(h["x-set"], "s");
    let added: Vec<_> = h.get_all("x-add").iter().collect();
    assert_eq!(added, ["a1", "a2"]);
    assert!(!h.contains_key("x-gone"));
    assert!(!edits.is_empty());
    assert!(Filters::default().is_empty());
}
